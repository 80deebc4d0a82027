"""Split versions: immutable, effective from a time, summing to exactly 10000 bps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from catalog.models import BPS_WHOLE, Party, Recording, SplitShare, SplitVersion, Work
from catalog.selectors import recording_ids_of_work, user_can_edit_splits
from core.errors import DomainError, PermissionDenied

from ._common import announce_rights_changed
from .listing_state import recording_remixability_refresh, recording_search_refresh

MASTER_KINDS = {Party.Kind.ARTIST, Party.Kind.LABEL}
PUBLISHING_KINDS = {Party.Kind.SONGWRITER, Party.Kind.PUBLISHER}


def split_shares_validate(
    *, shares: Sequence[tuple[Party, int]], allowed_kinds: set[str]
) -> list[tuple[Party, int]]:
    """Check shares before anything is stored; every problem is a field error."""
    problems: list[str] = []
    if not shares:
        problems.append("Add at least one share.")
    seen: set[int] = set()
    total = 0
    for party, bps in shares:
        if isinstance(bps, bool) or not isinstance(bps, int):
            problems.append(f"{party.name}: a share must be a whole number of basis points.")
            continue
        if bps <= 0:
            problems.append(f"{party.name}: a share must be more than 0 (got {bps}).")
        elif bps > BPS_WHOLE:
            problems.append(f"{party.name}: a share cannot exceed 100%.")
        if party.pk in seen:
            problems.append(f"{party.name} appears more than once.")
        seen.add(party.pk)
        if party.kind not in allowed_kinds:
            kinds = " or ".join(sorted(allowed_kinds))
            problems.append(f"{party.name} is a {party.kind}; this side takes {kinds} parties.")
        total += bps
    if not problems and total != BPS_WHOLE:
        problems.append(f"Shares add up to {total / 100:g}%; they must add up to exactly 100%.")
    if problems:
        raise DomainError(problems[0], code="invalid_split", fields={"shares": problems})
    return list(shares)


def _check_may_edit_splits(actor, *, recording: Recording | None, work: Work | None) -> None:
    target = recording or (work.recordings.first() if work else None)
    allowed = bool(actor and actor.is_authenticated and actor.is_staff) or (
        target is not None and user_can_edit_splits(user=actor, recording=target)
    )
    if not allowed:
        raise PermissionDenied("You cannot change these splits.")


def _split_version_in_effect(owner: dict, *, now: datetime) -> SplitVersion | None:
    return (
        SplitVersion.objects.filter(effective_from__lte=now, **owner)
        .order_by("-effective_from", "-number")
        .first()
    )


@transaction.atomic
def split_version_create(
    *,
    recording: Recording | None = None,
    work: Work | None = None,
    shares: Sequence[tuple[Party, int]],
    effective_from: datetime | None = None,
    actor=None,
    note: str = "",
    check_permission: bool = True,
) -> SplitVersion:
    """A new split version for a recording (master) or a work (publishing).

    If the version now in effect has exactly these shares, it is returned
    unchanged, so seeding twice is harmless. Pass check_permission=False only
    from trusted code (seed data, migrations).
    """
    if (recording is None) == (work is None):
        raise DomainError("A split belongs to either a recording or a work.")
    if check_permission:
        _check_may_edit_splits(actor, recording=recording, work=work)
    side = SplitVersion.Side.MASTER if recording else SplitVersion.Side.PUBLISHING
    shares = split_shares_validate(
        shares=shares, allowed_kinds=MASTER_KINDS if recording else PUBLISHING_KINDS
    )
    owner = {"recording": recording} if recording else {"work": work}
    # Lock the owner row so two editors cannot take the same version number.
    (Recording if recording else Work).objects.select_for_update(no_key=True).get(
        pk=(recording or work).pk
    )
    now = timezone.now()
    effective_from = effective_from or now
    current = _split_version_in_effect(owner, now=now)
    wanted = sorted((party.pk, bps) for party, bps in shares)
    if current is not None and effective_from <= now:
        existing = sorted(current.shares.values_list("party_id", "bps"))
        if existing == wanted:
            return current
    number = (SplitVersion.objects.filter(**owner).aggregate(n=Max("number"))["n"] or 0) + 1
    version = SplitVersion.objects.create(
        side=side,
        number=number,
        effective_from=effective_from,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        note=note,
        **owner,
    )
    SplitShare.objects.bulk_create(
        SplitShare(version=version, party=party, bps=bps) for party, bps in shares
    )
    affected = [recording.pk] if recording else recording_ids_of_work(work_id=work.pk)
    recording_remixability_refresh(recording_ids=affected)
    if work is not None:
        # Publishing payees are searchable as songwriters.
        recording_search_refresh(recording_ids=affected)
    announce_rights_changed(affected, "split registered")
    return version
