"""The staff audit log: append and verify.

Every staff action (takedowns, claim verifications, and whatever the apps
above name: refunds, exports...) appends one entry through `staff_audit_append`, inside
the action's own transaction, so the action and its record commit or roll
back together. The chain works like the consent ledger's (catalog.chain):
canonical JSON, prev_hash, hash, and a single head row locked on append so a
deleted tail is caught. It lives in catalog because catalog is the bottom
app: its own staff services can write it, and every app above can too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.chain import GENESIS_HASH, STAFF_AUDIT_CHAIN, ChainBreak, canonical_time
from catalog.models import StaffAuditEntry, StaffAuditHead
from core.errors import DomainError


class Action:
    """Catalog's own staff actions. Apps above name theirs in their own
    modules and pass the name in: the log knows no order or transfer."""

    TAKEDOWN_PLACE = "takedown.place"
    TAKEDOWN_LIFT = "takedown.lift"
    CLAIM_VERIFY = "claim.verify"
    CLAIM_REJECT = "claim.reject"
    GHOST_TRACK_ALLOW = "ghost_track.allow"
    GHOST_TRACK_REFUSE = "ghost_track.refuse"


# The names callers (and the golden-hash tests) use.
audit_entry_hash = STAFF_AUDIT_CHAIN.hash


def audit_find_first_break(
    entries: Iterable[Mapping[str, Any]], *, head_seq: int | None, head_hash: str | None
) -> ChainBreak | None:
    """Pure: walk entries in seq order and return the first broken link."""
    return STAFF_AUDIT_CHAIN.find_first_break(entries, head_seq=head_seq, head_hash=head_hash)


def _jsonable(data: Mapping | None) -> dict:
    # Round-trip through JSON now, so what is hashed is exactly what the
    # database gives back later (tuples become lists, ints stay ints).
    return json.loads(json.dumps(dict(data or {}), sort_keys=True, default=str))


def staff_audit_append(
    *,
    actor: Any,
    action: str,
    subject_type: str,
    subject_id: Any = "",
    reason: str = "",
    data: Mapping | None = None,
) -> StaffAuditEntry:
    """Append one entry. Joins the caller's transaction (the head row lock
    serialises writers so the chain never forks)."""
    if not getattr(actor, "pk", None):
        raise DomainError("A staff action needs a signed-in actor.", code="no_actor")
    if not action:
        raise DomainError("Name the staff action.", code="no_action")
    with transaction.atomic():
        head, _ = StaffAuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
        )
        created_at = timezone.now()
        content = {
            "seq": head.seq + 1,
            "action": action,
            "actor_id": actor.pk,
            "subject_type": subject_type,
            "subject_id": "" if subject_id is None else str(subject_id),
            "reason": (reason or "").strip(),
            "data": _jsonable(data),
            "created_at": canonical_time(created_at),
            "prev_hash": head.hash,
        }
        digest = STAFF_AUDIT_CHAIN.hash(content)
        entry = StaffAuditEntry.objects.create(
            seq=content["seq"],
            action=action,
            actor=actor,
            subject_type=subject_type,
            subject_id=content["subject_id"],
            reason=content["reason"],
            data=content["data"],
            created_at=created_at,
            prev_hash=head.hash,
            hash=digest,
        )
        head.seq, head.hash = entry.seq, digest
        head.save(update_fields=["seq", "hash"])
    return entry


def staff_audit_verify() -> ChainBreak | None:
    """Recompute every entry's hash; None when the log is intact."""
    rows = StaffAuditEntry.objects.order_by("seq").values("id", "hash", *STAFF_AUDIT_CHAIN.fields)
    head = StaffAuditHead.objects.filter(pk=1).first()
    return STAFF_AUDIT_CHAIN.verify_stored(
        rows.iterator(chunk_size=2000),
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head else GENESIS_HASH,
    )
