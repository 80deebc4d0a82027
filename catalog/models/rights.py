"""Who is paid and who consents: split versions and shares, the consent ledger and its
derived state, takedowns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .recordings import BPS_WHOLE, Party, Recording, Work


class SplitVersion(models.Model):
    """One immutable version of a split. Master splits hang on a recording,
    publishing splits on its work. The current version is the latest one in
    effect; older ones stay readable because remixes point at them."""

    class Side(models.TextChoices):
        MASTER = "master", "Master"
        PUBLISHING = "publishing", "Publishing"

    side = models.CharField(max_length=10, choices=Side.choices)
    recording = models.ForeignKey(
        Recording, null=True, blank=True, on_delete=models.PROTECT, related_name="split_versions"
    )
    work = models.ForeignKey(
        Work, null=True, blank=True, on_delete=models.PROTECT, related_name="split_versions"
    )
    number = models.PositiveIntegerField(help_text="1, 2, 3… per recording or work.")
    effective_from = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from", "-number"]
        constraints = [
            models.CheckConstraint(
                name="splitversion_side_matches_owner",
                condition=(
                    Q(side="master", recording__isnull=False, work__isnull=True)
                    | Q(side="publishing", work__isnull=False, recording__isnull=True)
                ),
            ),
            models.UniqueConstraint(
                fields=["recording", "number"],
                condition=Q(recording__isnull=False),
                name="splitversion_unique_recording_number",
            ),
            models.UniqueConstraint(
                fields=["work", "number"],
                condition=Q(work__isnull=False),
                name="splitversion_unique_work_number",
            ),
        ]

    def __str__(self) -> str:
        owner = self.recording or self.work
        return f"{self.get_side_display()} split v{self.number} of {owner}"


class SplitShare(models.Model):
    version = models.ForeignKey(SplitVersion, on_delete=models.PROTECT, related_name="shares")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="split_shares")
    bps = models.PositiveIntegerField("share (basis points)")

    class Meta:
        ordering = ["-bps", "id"]
        constraints = [
            models.CheckConstraint(
                name="splitshare_bps_range", condition=Q(bps__gte=1, bps__lte=BPS_WHOLE)
            ),
            models.UniqueConstraint(fields=["version", "party"], name="splitshare_unique_party"),
        ]

    def __str__(self) -> str:
        return f"{self.party.name}: {self.bps / 100:.2f}%"


class ConsentEvent(models.Model):
    """One append-only entry of the consent ledger. The database refuses
    UPDATE and DELETE on this table (see migration 0002)."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Consent granted"
        REVOKE = "revoke", "Consent revoked"
        TERMS_CHANGE = "terms_change", "Terms changed"
        TAKEDOWN_PLACE = "takedown_place", "Takedown placed"
        TAKEDOWN_LIFT = "takedown_lift", "Takedown lifted"

    seq = models.PositiveBigIntegerField(unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="consent_events"
    )
    recording = models.ForeignKey(
        Recording,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consent_events",
        help_text="Empty means the party's whole catalog.",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="catalog_consent_events"
    )
    created_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    terms = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.CheckConstraint(
                name="consentevent_kind_valid",
                condition=Q(
                    kind__in=["grant", "revoke", "terms_change", "takedown_place", "takedown_lift"]
                ),
            ),
            models.CheckConstraint(
                name="consentevent_scope_matches_kind",
                condition=(
                    Q(kind__in=["grant", "revoke", "terms_change"], party__isnull=False)
                    | Q(
                        kind__in=["takedown_place", "takedown_lift"],
                        party__isnull=True,
                        recording__isnull=False,
                    )
                ),
            ),
            models.CheckConstraint(name="consentevent_seq_positive", condition=Q(seq__gte=1)),
        ]
        indexes = [models.Index(fields=["party", "recording", "seq"])]

    def __str__(self) -> str:
        scope = self.recording.title if self.recording_id else "whole catalog"
        who = self.party.name if self.party_id else "staff"
        return f"#{self.seq} {self.get_kind_display()} — {who}, {scope}"

    @property
    def is_catalog_wide(self) -> bool:
        return self.recording_id is None


class ConsentChainHead(models.Model):
    """The ledger's single head row: locked to append, and it remembers the
    last seq and hash so a deleted tail is caught too."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(name="consentchainhead_single", condition=Q(id=1))]

    def __str__(self) -> str:
        return f"Consent ledger head at #{self.seq}"


class ConsentState(models.Model):
    """Derived: a party's current consent per scope, written with each event.

    For a recording, the latest of (its own state, the catalog-wide state)
    decides: the most recent statement an artist made about it wins.
    """

    class Status(models.TextChoices):
        GRANTED = "granted", "Granted"
        REVOKED = "revoked", "Revoked"

    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="consent_states")
    recording = models.ForeignKey(
        Recording, null=True, blank=True, on_delete=models.PROTECT, related_name="consent_states"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    terms = models.JSONField()
    event = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField(help_text="The seq of `event`; the latest scope wins.")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["party"],
                condition=Q(recording__isnull=True),
                name="consentstate_unique_catalog_wide",
            ),
            models.UniqueConstraint(
                fields=["party", "recording"],
                condition=Q(recording__isnull=False),
                name="consentstate_unique_recording",
            ),
            models.CheckConstraint(
                name="consentstate_status_valid", condition=Q(status__in=["granted", "revoked"])
            ),
        ]

    def __str__(self) -> str:
        scope = self.recording.title if self.recording_id else "whole catalog"
        return f"{self.party.name}: {self.status} for {scope}"

    @property
    def is_granted(self) -> bool:
        return self.status == self.Status.GRANTED


class Takedown(models.Model):
    """Staff removal of a recording; in force until lifted. Both acts are
    also events in the consent ledger."""

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="takedowns")
    reason = models.TextField()
    placed_event = models.OneToOneField(
        ConsentEvent, on_delete=models.PROTECT, related_name="takedown_placed"
    )
    lifted_event = models.OneToOneField(
        ConsentEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="takedown_lifted",
    )
    placed_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording"],
                condition=Q(lifted_event__isnull=True),
                name="takedown_one_in_force",
            ),
            models.CheckConstraint(name="takedown_reason_not_blank", condition=~Q(reason="")),
            models.CheckConstraint(
                name="takedown_lift_complete",
                condition=Q(lifted_event__isnull=True, lifted_at__isnull=True)
                | Q(lifted_event__isnull=False, lifted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        state = "lifted" if self.lifted_event_id else "in force"
        return f"Takedown of {self.recording.title} ({state})"

    @property
    def in_force(self) -> bool:
        return self.lifted_event_id is None
