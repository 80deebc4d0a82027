"""Celery tasks of the royalties app (default queue).

They are thin: each calls one service. Retries are driven by the ledger
records themselves (next_attempt_at with exponential backoff) and the periodic
`royalties.tasks.payouts_sweep`, so a lost task never loses money.
"""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task(name="royalties.tasks.transfer_line")
def transfer_line(line_id: int) -> str:
    try:
        tr = services.transfer_line_pay(line_id=line_id)
    except services.TransferNotDone as exc:
        # Stays owed; the sweep retries it when next_attempt_at is due.
        log.warning("transfer for line %s not done: %s", line_id, exc)
        return "retry-later"
    return tr.status if tr else "nothing-to-send"


@shared_task(name="royalties.tasks.reversal_execute")
def reversal_execute(reversal_id: int) -> str:
    try:
        return services.reversal_execute(reversal_id=reversal_id).status
    except services.TransferNotDone as exc:
        log.warning("reversal %s not done: %s", reversal_id, exc)
        return "retry-later"


@shared_task(name="royalties.tasks.payouts_sweep")
def payouts_sweep(party_id: int | None = None) -> dict:
    """Periodic (beat) and on account.updated: pay what is owed, retry what is due."""
    return services.payouts_sweep(party_id=party_id)
