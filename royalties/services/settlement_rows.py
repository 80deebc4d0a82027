"""The rows a settlement batch writes: ledger transactions, settlements,
lines, entries and balances of new orders, one statement each (the lines and
entries as plain rows: see royalties.bulk). `settlements` decides which orders
are new and holds their locks."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from royalties import ledger
from royalties.bulk import instances_insert, rows_insert
from royalties.ledger import Leg, Posting
from royalties.models import (
    Account,
    LedgerTransaction,
    Settlement,
    SettlementBlock,
    SettlementLine,
)

from .settlement_plan import SettlementPlan

Kind = Account.Kind
SETTLEMENT_COLUMNS = (
    "order_ref",
    "gross_cents",
    "currency",
    "charge_id",
    "transfer_group",
    "remix_ref",
    "recording_id",
    "master_split_version_id",
    "publishing_split_version_id",
    "platform_fee_bps",
    "master_pool_bps",
    "transaction_id",
    "created_at",
)
LINE_COLUMNS = (
    "settlement_id",
    "kind",
    "party_id",
    "bps",
    "amount_cents",
    "refunded_cents",
    "offset_cents",
    "transferred_cents",
    "reversed_cents",
    "receivable_cents",
)


class PostedLine(NamedTuple):
    """A settlement line just inserted (rows, not model instances: see royalties.bulk)."""

    settlement_id: int
    kind: str
    party_id: int | None
    bps: int
    amount_cents: int
    pk: int = 0


def settlement_legs(plan: SettlementPlan, line_ids: list[int | None]) -> list[Leg]:
    legs = [Leg(Kind.PLATFORM_CASH, None, plan.request.gross_cents)]
    for sl, line_id in zip(plan.lines, line_ids, strict=True):
        if sl.kind == SettlementLine.Kind.PLATFORM_FEE:
            legs.append(Leg(Kind.PLATFORM_REVENUE, None, -sl.amount_cents, line_id))
        else:
            legs.append(Leg(Kind.PAYABLE, sl.party_key, -sl.amount_cents, line_id))  # type: ignore[arg-type]
    return legs


def settlement_posting(plan: SettlementPlan, line_ids: list[int | None], at: datetime) -> Posting:
    r = plan.request
    return Posting(
        key=f"settlement:{r.order_ref}",
        reason=LedgerTransaction.Reason.SETTLEMENT,
        currency=plan.currency,
        legs=settlement_legs(plan, line_ids),
        ref=r.order_ref,
        memo=f"remix {r.remix_ref}" if r.remix_ref else "",
        at=r.created_at or at,
    )


def settlement_rows_create(
    plans: list[SettlementPlan],
) -> tuple[list[Settlement | None], list[PostedLine]]:
    """Ledger transactions, settlements, lines, entries and balances of the
    orders not settled yet, one statement each (entries and balances in one on
    PostgreSQL), and the blocks they resolve. A settlement per plan, None for an
    order settled before (its ledger key was taken: see
    `ledger.ledger_transactions_claim`, which also waits for a concurrent
    batch settling the same order); and the lines posted."""
    if not plans:
        return [], []
    now = timezone.now()
    postings = [settlement_posting(p, [None] * len(p.lines), now) for p in plans]
    claimed = ledger.ledger_transactions_claim(postings)
    new = [(plan, txn) for plan, txn in zip(plans, claimed, strict=True) if txn is not None]
    settlements = [_settlement_row(plan, txn) for plan, txn in new]
    refs = [s.order_ref for s in settlements]
    instances_insert(Settlement, SETTLEMENT_COLUMNS, settlements, before=_blocks_resolve(refs, now))
    lines = [
        PostedLine(s.pk, sl.kind, sl.party_key, sl.bps, sl.amount_cents)  # type: ignore[arg-type]
        for (plan, _), s in zip(new, settlements, strict=True)
        for sl in plan.lines
    ]
    rows = [(*line[:5], 0, 0, 0, 0, 0) for line in lines]
    ids = rows_insert(SettlementLine, LINE_COLUMNS, rows, returning=True)
    line_ids = iter(ids)
    postings = [
        settlement_posting(plan, [next(line_ids) for _ in plan.lines], now) for plan, _ in new
    ]
    # Last: the balance rows are the only rows other settlements also write.
    ledger.ledger_entries_create(postings, [txn for _, txn in new])
    made = iter(settlements)
    out = [None if txn is None else next(made) for txn in claimed]
    return out, [line._replace(pk=pk) for line, pk in zip(lines, ids, strict=True)]


def _blocks_resolve(order_refs: list[str], at: datetime) -> tuple[str, list]:
    """The statement that marks these orders' blocks resolved (they settle now),
    as a data-modifying CTE for the settlements' insert (see bulk.rows_insert)."""
    table = connection.ops.quote_name(SettlementBlock._meta.db_table)
    if connection.vendor == "postgresql":
        return (
            f"WITH resolved AS (UPDATE {table} SET resolved_at = %s "  # noqa: S608
            "WHERE order_ref = ANY(%s::text[]) AND resolved_at IS NULL)",
            [at, order_refs],
        )
    marks = ", ".join(["%s"] * len(order_refs))
    return (
        f"UPDATE {table} SET resolved_at = %s "  # noqa: S608
        f"WHERE order_ref IN ({marks}) AND resolved_at IS NULL",
        [connection.ops.adapt_datetimefield_value(at), *order_refs],
    )


def _settlement_row(plan: SettlementPlan, txn: LedgerTransaction) -> Settlement:
    r = plan.request
    return Settlement(
        order_ref=r.order_ref,
        gross_cents=r.gross_cents,
        currency=plan.currency,
        charge_id=r.charge_id,
        transfer_group=r.transfer_group,
        remix_ref=r.remix_ref,
        recording_id=plan.recording_id,
        master_split_version=plan.master,
        publishing_split_version=plan.publishing,
        platform_fee_bps=plan.platform_fee_bps,
        master_pool_bps=plan.master_pool_bps,
        transaction=txn,
        created_at=txn.created_at,
    )
