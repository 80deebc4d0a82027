"""Settlement: a paid order posted to the ledger once per order_ref — cash in,
platform fee, one payable per rights holder line — and its transfers queued
after commit for holders who can receive.

Orders that arrive together settle together: `settlements_post` posts a batch
in one database transaction and a fixed number of statements whatever its
size (see `settlements_post`), each order still settled exactly once.
`settlement_post` is a batch of one.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from catalog.models import Recording, SplitVersion
from core.errors import Conflict, DomainError
from royalties import enqueue
from royalties.models import Payee, Settlement

from .settlement_plan import SettlementBlocked, SettlementPlan, SettlementRequest, settlement_plans
from .settlement_rows import PostedLine, settlement_rows_create

__all__ = ["SettlementBlocked", "SettlementRequest", "settlement_post", "settlements_post"]

SettlementResult = Settlement | DomainError


def settlement_post(
    *,
    order_ref: str,
    gross_cents: int,
    currency: str,
    master_split_version: SplitVersion | int | None,
    publishing_split_version: SplitVersion | int | None,
    charge_id: str,
    transfer_group: str,
    remix_ref: str = "",
    recording: Recording | int | None = None,
    platform_fee_bps: int | None = None,
    master_pool_bps: int | None = None,
    created_at: datetime | None = None,
) -> Settlement:
    """Post a paid order to the ledger once, and queue its transfers after commit.

    Idempotent on `order_ref`: a second call (or a concurrent one) gets the
    first settlement, and a Conflict if the amount differs. Raises
    `SettlementBlocked` (a DomainError) and records a `SettlementBlock` staff
    can see when a split version does not sum to 10000 bps.
    """
    request = SettlementRequest(
        order_ref=order_ref,
        gross_cents=gross_cents,
        currency=currency,
        master_split_version=master_split_version,
        publishing_split_version=publishing_split_version,
        charge_id=charge_id,
        transfer_group=transfer_group,
        remix_ref=remix_ref,
        recording=recording,
        platform_fee_bps=platform_fee_bps,
        master_pool_bps=master_pool_bps,
        created_at=created_at,
    )
    (result,) = settlements_post([request])
    if isinstance(result, DomainError):
        raise result
    return result


def settlements_post(requests: list[SettlementRequest]) -> list[SettlementResult]:
    """Settle many paid orders in one database transaction; a result per
    request, in order: its settlement (new, or the one posted before), or the
    DomainError that refused it (bad amount, blocked split, conflicting amount).

    Statements: two to plan (split versions, only when given as keys, and
    shares), then in the transaction: ledger transactions (whose unique keys
    make each order settle once), settlements (with their blocks resolved),
    lines, a read of accounts, entries with the balance upsert (on SQLite, the
    blocks, entries and balances take one statement each); a read of the
    settlements found posted before, only when there are some; then one read
    of payees to queue transfers. Constant in the batch size (accounts seen for
    the first time add one insert each).
    """
    results: list[SettlementResult | None] = [None] * len(requests)
    valid: list[tuple[int, SettlementRequest]] = []
    for i, r in enumerate(requests):
        if _is_positive_int(r.gross_cents):
            valid.append((i, r))
        else:
            results[i] = DomainError(
                "gross_cents must be a positive integer", fields={"gross_cents": "invalid"}
            )
    plans = settlement_plans([r for _, r in valid])
    todo: list[tuple[int, SettlementPlan]] = []
    for (i, _), plan in zip(valid, plans, strict=True):
        if isinstance(plan, SettlementBlocked):
            results[i] = plan
        else:
            todo.append((i, plan))
    for i, result in _post_plans([plan for _, plan in todo], [i for i, _ in todo]):
        results[i] = result
    return [r for r in results if r is not None]


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _post_plans(
    plans: list[SettlementPlan], slots: list[int]
) -> list[tuple[int, SettlementResult]]:
    if not plans:
        return []
    # No savepoint inside a caller's transaction: nothing here is retried, and
    # an error undoes the caller's whole transaction anyway.
    with transaction.atomic(savepoint=False):
        posted, new_lines = _post_in_transaction(plans)
    _enqueue_transfers_for(new_lines)
    return list(zip(slots, posted, strict=True))


def _same_or_conflict(existing: Settlement, plan: SettlementPlan) -> SettlementResult:
    if existing.gross_cents != plan.request.gross_cents or existing.currency != plan.currency:
        return Conflict(
            f"order {existing.order_ref} was settled for {existing.gross_cents} "
            f"{existing.currency}, not {plan.request.gross_cents} {plan.currency}"
        )
    return existing


def _post_in_transaction(
    plans: list[SettlementPlan],
) -> tuple[list[SettlementResult], list[PostedLine]]:
    """A settlement (or Conflict) per plan, and the lines posted. Orders settled
    before (or named twice in this batch) get the first settlement: each
    order's ledger key is claimed by the insert of its ledger transaction,
    which waits for a concurrent batch holding the same key (see
    `ledger.ledger_transactions_claim`); only when some key was taken are the
    settlements that hold them read."""
    first: dict[str, SettlementPlan] = {}
    for plan in plans:
        first.setdefault(plan.request.order_ref, plan)
    new = list(first.values())
    created, lines = settlement_rows_create(new)
    settled = {s.order_ref: s for s in created if s is not None}
    taken = [plan.request.order_ref for plan, s in zip(new, created, strict=True) if s is None]
    if taken:
        settled |= {s.order_ref: s for s in Settlement.objects.filter(order_ref__in=taken)}
    posted = {id(plan): s for plan, s in zip(new, created, strict=True) if s is not None}
    out: list[SettlementResult] = [
        posted.get(id(plan)) or _same_or_conflict(settled[plan.request.order_ref], plan)
        for plan in plans
    ]
    return out, lines


def _enqueue_transfers_for(lines: list[PostedLine]) -> None:
    """Queue one transfer per paying line of a party that can receive (one query)."""
    party_ids = {line.party_id for line in lines if line.party_id and line.amount_cents > 0}
    if not party_ids:
        return
    receiving = set(
        Payee.objects.filter(
            party_id__in=party_ids,
            charges_enabled=True,
            payouts_enabled=True,
            transfers_active=True,
            stripe_account_id__isnull=False,
        ).values_list("party_id", flat=True)
    )
    for line in lines:
        if line.party_id in receiving and line.amount_cents > 0:
            enqueue.task_enqueue_on_commit(enqueue.TRANSFER_LINE, line.pk)
