"""The rights ledger: parties, recordings, works, splits, consent and takedowns.

Fields, constraints and small properties only; every write lives in
`catalog.services`, every read in `catalog.selectors`.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q

from .identifiers import format_iswc

BPS_WHOLE = 10_000


def _generated_name(folder: str, filename: str) -> str:
    # Never trust an uploaded name: keep only a lower-case extension.
    suffix = PurePath(filename).suffix.lower()[:6]
    return f"catalog/{folder}/{uuid.uuid4().hex}{suffix}"


def recording_audio_path(instance: Recording, filename: str) -> str:
    return _generated_name("recordings", filename)


def stem_audio_path(instance: OfficialStem, filename: str) -> str:
    return _generated_name("stems", filename)


class Party(models.Model):
    """A rights holder. May exist before its person joins; money waits for them."""

    class Kind(models.TextChoices):
        ARTIST = "artist", "Artist"
        SONGWRITER = "songwriter", "Songwriter"
        LABEL = "label", "Label"
        PUBLISHER = "publisher", "Publisher"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    ipi = models.CharField("IPI name number", max_length=11, unique=True, null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="catalog_parties",
        help_text="The account that claims this party.",
    )
    claim_requested_at = models.DateTimeField(null=True, blank=True)
    claim_verified = models.BooleanField(default=False)
    claim_verified_at = models.DateTimeField(null=True, blank=True)
    claim_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "parties"
        constraints = [
            models.CheckConstraint(
                name="party_kind_valid",
                condition=Q(kind__in=["artist", "songwriter", "label", "publisher"]),
            ),
            models.CheckConstraint(
                name="party_verified_claim_has_user",
                condition=Q(claim_verified=False) | Q(user__isnull=False),
            ),
            models.CheckConstraint(name="party_name_not_blank", condition=~Q(name="")),
        ]
        indexes = [models.Index(fields=["kind", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display().lower()})"

    @property
    def is_claimed(self) -> bool:
        return self.user_id is not None and self.claim_verified


class Work(models.Model):
    """A composition. Its publishing splits belong to its songwriters and publishers."""

    title = models.CharField(max_length=300)
    iswc = models.CharField("ISWC", max_length=11, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.iswc_display})" if self.iswc else self.title

    @property
    def iswc_display(self) -> str:
        return format_iswc(self.iswc) if self.iswc else ""


class WorkWriter(models.Model):
    """Who wrote a work and how: the credit, apart from who is paid."""

    class Role(models.TextChoices):
        COMPOSER = "composer", "Composer"
        LYRICIST = "lyricist", "Lyricist"
        COMPOSER_LYRICIST = "composer_lyricist", "Composer and lyricist"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="writers")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="writer_credits")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COMPOSER_LYRICIST)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["work", "party"], name="workwriter_unique_party"),
        ]

    def __str__(self) -> str:
        return f"{self.party.name} ({self.get_role_display().lower()}) on {self.work.title}"


class Recording(models.Model):
    """A track: one master recording, embodying one work."""

    title = models.CharField(max_length=300)
    isrc = models.CharField("ISRC", max_length=12, unique=True, null=True, blank=True)
    work = models.ForeignKey(
        Work, null=True, blank=True, on_delete=models.PROTECT, related_name="recordings"
    )
    genre = models.CharField(max_length=60, blank=True, db_index=True)
    mood = models.JSONField(default=list, blank=True, help_text="A list of mood tags.")
    tempo_bpm = models.PositiveSmallIntegerField("tempo (BPM)", null=True, blank=True)
    key = models.CharField(max_length=16, blank=True, help_text='Like "A minor".')
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    audio = models.FileField(upload_to=recording_audio_path, blank=True, max_length=255)
    audio_sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="catalog_recordings",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    parties = models.ManyToManyField(Party, through="RecordingArtist", related_name="recordings")

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                name="recording_tempo_range",
                condition=Q(tempo_bpm__isnull=True) | Q(tempo_bpm__gte=20, tempo_bpm__lte=400),
            ),
            models.CheckConstraint(
                name="recording_duration_positive",
                condition=Q(duration_ms__isnull=True) | Q(duration_ms__gt=0),
            ),
            models.CheckConstraint(name="recording_title_not_blank", condition=~Q(title="")),
        ]
        indexes = [models.Index(fields=["tempo_bpm"]), models.Index(fields=["key"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.isrc})" if self.isrc else self.title

    @property
    def duration_display(self) -> str:
        if not self.duration_ms:
            return ""
        seconds = round(self.duration_ms / 1000)
        return f"{seconds // 60}:{seconds % 60:02d}"


class RecordingArtist(models.Model):
    class Role(models.TextChoices):
        MAIN = "main", "Main artist"
        FEATURED = "featured", "Featured artist"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="artists")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="recording_credits")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MAIN)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["role", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "party"], name="recordingartist_unique_party"
            ),
            models.CheckConstraint(
                name="recordingartist_role_valid", condition=Q(role__in=["main", "featured"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party.name} ({self.role}) on {self.recording.title}"


class OfficialStem(models.Model):
    """A stem supplied by the rights holder, used instead of separating the mix."""

    class Name(models.TextChoices):
        DRUMS = "drums", "Drums"
        BASS = "bass", "Bass"
        OTHER = "other", "Other"
        VOCALS = "vocals", "Vocals"
        PIANO = "piano", "Piano"
        GUITAR = "guitar", "Guitar"
        SYNTH = "synth", "Synth"
        STRINGS = "strings", "Strings"
        BACKING_VOCALS = "backing_vocals", "Backing vocals"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="stems")
    name = models.CharField(max_length=20, choices=Name.choices)
    file = models.FileField(upload_to=stem_audio_path, max_length=255)
    sha256 = models.CharField(max_length=64)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recording", "name"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "name"], name="officialstem_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.get_name_display()} stem of {self.recording.title}"


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


class StaffAuditEntry(models.Model):
    """One append-only entry of the staff audit log: who did what to which
    record, when and why. Hash-chained like the consent ledger; the database
    refuses UPDATE and DELETE on PostgreSQL (see migration 0003). Written by
    `catalog.audit_log.staff_audit_append`, inside the staff action's own
    transaction. Lives in catalog (the bottom app) so that catalog's own staff
    services (takedowns, claim verification) can write it too."""

    seq = models.PositiveBigIntegerField(unique=True)
    action = models.CharField(max_length=60, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_audit_entries"
    )
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=120, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "staff audit entries"
        constraints = [
            models.CheckConstraint(name="staffauditentry_seq_positive", condition=Q(seq__gte=1)),
            models.CheckConstraint(
                name="staffauditentry_action_not_blank", condition=~Q(action="")
            ),
        ]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["actor", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id}"


class StaffAuditHead(models.Model):
    """The staff audit log's single head row (like ConsentChainHead)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(name="staffaudithead_single", condition=Q(id=1))]

    def __str__(self) -> str:
        return f"Staff audit log head at #{self.seq}"
