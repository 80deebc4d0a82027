"""Parties: who holds rights, and the people who claim them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from catalog.audit_log import Action, staff_audit_append
from catalog.identifiers import normalize_ipi
from catalog.models import Party
from core.errors import Conflict, DomainError, PermissionDenied

from ._common import identifier_or_error


@transaction.atomic
def party_create(*, kind: str, name: str, ipi: str | None = None, user=None) -> Party:
    """Create a party, or return the existing one with the same IPI.

    A user given here is a verified owner (for seed data and staff entry);
    people claim parties through `party_claim`.
    """
    name = (name or "").strip()
    if kind not in Party.Kind.values:
        raise DomainError("Choose a kind of party.", fields={"kind": ["Unknown kind."]})
    if not name:
        raise DomainError("A party needs a name.", fields={"name": ["Enter a name."]})
    ipi = identifier_or_error(normalize_ipi, ipi, "ipi")
    if ipi:
        existing = Party.objects.filter(ipi=ipi).first()
        if existing is not None:
            if existing.kind != kind:
                raise Conflict(
                    "This IPI belongs to another party.",
                    fields={"ipi": [f"Already used by {existing}."]},
                )
            return existing
    else:
        existing = Party.objects.filter(kind=kind, name=name, ipi__isnull=True).first()
        if existing is not None:
            return existing
    now = timezone.now()
    return Party.objects.create(
        kind=kind,
        name=name,
        ipi=ipi,
        user=user,
        claim_requested_at=now if user else None,
        claim_verified=user is not None,
        claim_verified_at=now if user else None,
    )


@transaction.atomic
def party_claim(*, party: Party, user) -> Party:
    """A person asks to be recognised as this party; staff verify it."""
    party = Party.objects.select_for_update().get(pk=party.pk)
    if party.user_id == user.id:
        return party
    if party.user_id is not None:
        raise Conflict(
            "Someone has already claimed this party. Contact support if it is you.",
            fields={"party": ["Already claimed."]},
        )
    party.user = user
    party.claim_requested_at = timezone.now()
    party.claim_verified = False
    party.claim_verified_at = None
    party.save(update_fields=["user", "claim_requested_at", "claim_verified", "claim_verified_at"])
    return party


@transaction.atomic
def party_claim_verify(
    *, party: Party, staff_user, approve: bool = True, reason: str = ""
) -> Party:
    """Staff accept a pending claim (or reject it, freeing the party).
    Recorded in the staff audit log in the same transaction."""
    if not getattr(staff_user, "is_staff", False):
        raise PermissionDenied("Only staff can verify claims.")
    party = Party.objects.select_for_update().get(pk=party.pk)
    if party.user_id is None:
        raise DomainError("Nobody has claimed this party.", fields={"party": ["No claim."]})
    claimant_id = party.user_id
    if approve:
        party.claim_verified = True
        party.claim_verified_at = timezone.now()
        party.claim_verified_by = staff_user
    else:
        party.user = None
        party.claim_verified = False
        party.claim_verified_at = None
        party.claim_requested_at = None
    party.save()
    staff_audit_append(
        actor=staff_user,
        action=Action.CLAIM_VERIFY if approve else Action.CLAIM_REJECT,
        subject_type="party",
        subject_id=party.pk,
        reason=reason,
        data={"claimant_user_id": claimant_id, "approved": approve},
    )
    return party


@transaction.atomic
def party_songwriter_for_user(*, user, name: str) -> Party:
    """The songwriter identity of a person who already speaks for an artist.

    An artist who writes their own songs is paid on the publishing side as a
    songwriter; the same verified person owns both parties, so no new claim
    is needed. Reuses the songwriter party they already own, if any.
    """
    existing = (
        Party.objects.filter(kind=Party.Kind.SONGWRITER, user=user, claim_verified=True)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    name = (name or "").strip()
    if not name:
        raise DomainError("A songwriter needs a name.", fields={"name": ["Enter a name."]})
    now = timezone.now()
    return Party.objects.create(
        kind=Party.Kind.SONGWRITER,
        name=name,
        user=user,
        claim_requested_at=now,
        claim_verified=True,
        claim_verified_at=now,
    )
