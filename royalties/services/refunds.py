"""Refunds and disputes against a settled order, and their reinstatement.

A refund (or a dispute's withdrawal) is spread pro rata over what remains of
each line with the split engine's largest-remainder rule; lines already paid
out get their transfers reversed after commit (see `reversals`).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound
from core.refs import SETTLEMENT_MISSING
from royalties import enqueue, ledger
from royalties.ledger import Leg
from royalties.models import (
    Account,
    LedgerTransaction,
    Refund,
    RefundLine,
    Settlement,
    SettlementLine,
    Transfer,
)
from royalties.splits import allocate

from .reversals import line_retrim_reversals, line_reverse_deficit

log = logging.getLogger(__name__)

Kind = Account.Kind
Reason = LedgerTransaction.Reason


def _settlement_for(*, order_ref: str | None = None, charge_id: str | None = None) -> Settlement:
    qs = Settlement.objects.select_for_update()
    s = qs.filter(order_ref=order_ref).first() if order_ref else None
    if s is None and charge_id:
        s = qs.filter(charge_id=charge_id).order_by("id").first()
    if s is None:
        raise NotFound(
            f"no settlement for order {order_ref or '?'} / charge {charge_id or '?'} (yet)",
            code=SETTLEMENT_MISSING,
        )
    return s


def refund_post(
    *,
    refund_id: str,
    amount_cents: int,
    order_ref: str | None = None,
    charge_id: str | None = None,
    kind: str = Refund.Kind.REFUND,
) -> Refund | None:
    """Post a refund (or a dispute's withdrawal) once per `refund_id`, spread pro
    rata over what remains of each line with the split engine's largest
    remainder rule; lines already transferred get their transfers reversed
    (after commit). Returns None when nothing remains to refund."""
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise DomainError("amount_cents must be a positive integer")
    existing = Refund.objects.filter(external_id=refund_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _refund_create(
                refund_id=refund_id,
                amount_cents=amount_cents,
                order_ref=order_ref,
                charge_id=charge_id,
                kind=kind,
            )
    except IntegrityError:
        existing = Refund.objects.filter(external_id=refund_id).first()
        if existing is None:
            raise
        return existing


def _refund_create(
    *, refund_id: str, amount_cents: int, order_ref: str | None, charge_id: str | None, kind: str
) -> Refund | None:
    s = _settlement_for(order_ref=order_ref, charge_id=charge_id)
    lines = list(s.lines.select_for_update().order_by("pk"))
    remaining = sum(line.net_cents for line in lines)
    if amount_cents > remaining:
        if kind == Refund.Kind.REFUND:
            raise Conflict(
                f"refund {refund_id} of {amount_cents} exceeds the {remaining} left on "
                f"{s.order_ref}"
            )
        amount_cents = remaining  # a dispute can only take what is left
    if amount_cents <= 0:
        log.warning("%s %s on %s: nothing left to take", kind, refund_id, s.order_ref)
        return None
    parts = allocate(amount_cents, [(line.pk, line.net_cents) for line in lines])
    legs = [Leg(Kind.PLATFORM_CASH, None, -amount_cents)]
    for line, part in zip(lines, parts, strict=True):
        if line.kind == SettlementLine.Kind.PLATFORM_FEE:
            legs.append(Leg(Kind.PLATFORM_REVENUE, None, part, line.pk))
        else:
            legs.append(Leg(Kind.PAYABLE, line.party_id, part, line.pk))
    txn = ledger.ledger_post(
        key=f"{kind}:{refund_id}",
        reason=Reason.DISPUTE if kind == Refund.Kind.DISPUTE else Reason.REFUND,
        currency=s.currency,
        legs=legs,
        ref=s.order_ref,
        memo=f"{kind} {refund_id}",
    )
    refund = Refund.objects.create(
        external_id=refund_id, kind=kind, settlement=s, amount_cents=amount_cents, transaction=txn
    )
    taken = [(line, part) for line, part in zip(lines, parts, strict=True) if part]
    RefundLine.objects.bulk_create(
        [RefundLine(refund=refund, line=line, amount_cents=part) for line, part in taken]
    )
    for line, part in taken:
        line.refunded_cents += part
        line.save(update_fields=["refunded_cents"])
        # Failed transfers were for the old amount: the next attempt starts afresh.
        line.transfers.filter(status=Transfer.Status.FAILED).update(
            status=Transfer.Status.CANCELED, updated_at=timezone.now()
        )
        line_reverse_deficit(line)
    return refund


def dispute_open_post(*, dispute_id: str, charge_id: str, amount_cents: int) -> Refund | None:
    """Funds withdrawn for a dispute: handled like a refund of that amount."""
    return refund_post(
        refund_id=dispute_id,
        amount_cents=amount_cents,
        charge_id=charge_id,
        kind=Refund.Kind.DISPUTE,
    )


def refund_reinstate(*, refund_id: str, won: bool = True) -> Refund | None:
    """A dispute won (or a refund that failed): post the exact inverse of its
    allocation, so the lines earn again and are paid again. Idempotent."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(external_id=refund_id).first()
        if refund is None or refund.status != Refund.Status.POSTED:
            return refund
        if not won:
            refund.status = Refund.Status.LOST
            refund.save(update_fields=["status"])
            return refund
        _reinstate(refund)
    return refund


def _reinstate(refund: Refund) -> None:
    s = Settlement.objects.select_for_update().get(pk=refund.settlement_id)
    taken = list(refund.lines.order_by("line_id"))
    lines = SettlementLine.objects.select_for_update().in_bulk([r.line_id for r in taken])
    legs = [Leg(Kind.PLATFORM_CASH, None, refund.amount_cents)]
    for r in taken:
        line = lines[r.line_id]
        kind = Kind.PLATFORM_REVENUE if line.party_id is None else Kind.PAYABLE
        legs.append(Leg(kind, line.party_id, -r.amount_cents, line.pk))
    ledger.ledger_post(
        key=f"reinstate:{refund.kind}:{refund.external_id}",
        reason=Reason.DISPUTE_WON,
        currency=s.currency,
        legs=legs,
        ref=s.order_ref,
        memo=f"{refund.kind} {refund.external_id} reinstated",
        reverses=refund.transaction,
    )
    refund.status = Refund.Status.REINSTATED
    refund.save(update_fields=["status"])
    for r in taken:
        line = lines[r.line_id]
        line.refunded_cents -= r.amount_cents
        line.save(update_fields=["refunded_cents"])
        line_retrim_reversals(line)
        if line.party_id is not None and line.owed_cents > 0:
            enqueue.task_enqueue_on_commit(enqueue.TRANSFER_LINE, line.pk)


def dispute_close_post(*, dispute_id: str, status: str) -> Refund | None:
    if status == "won":
        return refund_reinstate(refund_id=dispute_id, won=True)
    if status == "lost":
        return refund_reinstate(refund_id=dispute_id, won=False)
    return Refund.objects.filter(external_id=dispute_id).first()
