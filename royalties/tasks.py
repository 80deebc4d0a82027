"""Celery tasks of the royalties app (default queue).

They are thin: each calls one service. Retries are driven by the ledger
records themselves (next_attempt_at with exponential backoff) and the periodic
`royalties.tasks.payouts_sweep`, so a lost task never loses money. Services
queue these by name (`royalties.enqueue`), so the names below are a contract.
"""

from __future__ import annotations

import logging

from celery import shared_task

from . import enqueue
from .models import Settlement
from .services import reversals, settlements, sweeps, transfers
from .services.movements import TransferNotDone

log = logging.getLogger(__name__)


@shared_task(name=enqueue.TRANSFER_LINE)
def transfer_line(line_id: int) -> str:
    try:
        tr = transfers.transfer_line_pay(line_id=line_id)
    except TransferNotDone as exc:
        # Stays owed; the sweep retries it when next_attempt_at is due.
        log.warning("transfer for line %s not done: %s", line_id, exc)
        return "retry-later"
    return tr.status if tr else "nothing-to-send"


@shared_task(name=enqueue.REVERSAL_EXECUTE)
def reversal_execute(reversal_id: int) -> str:
    try:
        return reversals.reversal_execute(reversal_id=reversal_id).status
    except TransferNotDone as exc:
        log.warning("reversal %s not done: %s", reversal_id, exc)
        return "retry-later"


@shared_task(name=enqueue.PAYOUTS_SWEEP)
def payouts_sweep(party_id: int | None = None) -> dict:
    """Periodic (beat) and on account.updated: pay what is owed, retry what is due."""
    return sweeps.payouts_sweep(party_id=party_id)


@shared_task(name=enqueue.SETTLEMENTS_POST)
def settlements_post(requests: list[dict]) -> dict:
    """Settle paid orders that arrived together, in one database transaction.

    Each request holds `SettlementRequest`'s fields, with split versions and
    recording as primary keys. Each order is settled once however often it is
    sent; a refused one (a blocked split) is logged and left to staff."""
    results = settlements.settlements_post(
        [settlements.SettlementRequest(**request) for request in requests]
    )
    refused = [r for r in results if not isinstance(r, Settlement)]
    for error in refused:
        log.error("settlement refused: %s", error)
    return {"settled": len(results) - len(refused), "refused": len(refused)}
