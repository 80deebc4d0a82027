"""The staff audit log: append and verify.

Every staff action (takedowns, claim verifications, refunds, manual
corrections, exports) appends one entry through `staff_audit_append`, inside
the action's own transaction, so the action and its record commit or roll
back together. The chain works like the consent ledger's (catalog.chain):
canonical JSON, prev_hash, hash, and a single head row locked on append so a
deleted tail is caught. It lives in catalog because catalog is the bottom
app: its own staff services can write it, and every app above can too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.chain import GENESIS_HASH, ChainBreak
from catalog.errors import DomainError
from catalog.models import StaffAuditEntry, StaffAuditHead
from catalog.selectors import canonical_time

# The fields an entry's hash covers.
AUDIT_HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "action",
    "actor_id",
    "subject_type",
    "subject_id",
    "reason",
    "data",
    "created_at",
    "prev_hash",
)


class Action:
    """The known staff actions (free text is allowed, these are the usual)."""

    TAKEDOWN_PLACE = "takedown.place"
    TAKEDOWN_LIFT = "takedown.lift"
    CLAIM_VERIFY = "claim.verify"
    CLAIM_REJECT = "claim.reject"
    ORDER_REFUND = "order.refund"
    TRANSFER_RETRY = "transfer.retry"
    CORRECTION = "ledger.correction"
    EXPORT = "export"


def audit_entry_hash(content: Mapping) -> str:
    payload = json.dumps(
        {name: content[name] for name in AUDIT_HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return hashlib.sha256(payload).hexdigest()


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
        digest = audit_entry_hash(content)
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


def audit_find_first_break(
    entries: Iterable[Mapping], *, head_seq: int | None, head_hash: str | None
) -> ChainBreak | None:
    """Pure: walk entries in seq order and return the first broken link."""
    expected_prev, expected_seq, last = GENESIS_HASH, 1, None
    for entry in entries:
        seq, entry_id = entry["seq"], entry.get("id")
        if seq != expected_seq:
            return ChainBreak(seq, entry_id, f"expected entry #{expected_seq}, found #{seq}")
        if entry["prev_hash"] != expected_prev:
            return ChainBreak(seq, entry_id, "its prev_hash does not match the entry before it")
        if audit_entry_hash(entry) != entry["hash"]:
            return ChainBreak(seq, entry_id, "its content does not match its hash")
        expected_prev, expected_seq, last = entry["hash"], expected_seq + 1, entry
    found = last["seq"] if last else 0
    if head_seq is not None and head_seq != found:
        return ChainBreak(
            found + 1, None, f"the log head says {head_seq} entries but {found} remain"
        )
    if head_hash is not None and last is not None and head_hash != last["hash"]:
        return ChainBreak(last["seq"], last.get("id"), "the log head's hash does not match")
    return None


def staff_audit_verify() -> ChainBreak | None:
    """Recompute every entry's hash; None when the log is intact."""
    rows = StaffAuditEntry.objects.order_by("seq").values("id", "hash", *AUDIT_HASHED_FIELDS)
    head = StaffAuditHead.objects.filter(pk=1).first()

    def as_content():
        for row in rows.iterator(chunk_size=2000):
            row["created_at"] = canonical_time(row["created_at"])
            yield row

    return audit_find_first_break(
        as_content(),
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head and head.seq else None,
    )
