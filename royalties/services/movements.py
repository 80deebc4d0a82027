"""What transfers and reversals share: one Stripe call per attempt, with the
idempotency key saved first, retries with exponential backoff, and the ledger
move between a party's payable and paid-out accounts once Stripe confirms.

A movement is a `Transfer` or a `Reversal` row: both carry `status`,
`attempts`, `generation`, `idempotency_key`, `next_attempt_at`, `last_error`
and `ledger_transaction`, and their statuses share the values used here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from royalties import ledger
from royalties.ledger import Leg
from royalties.models import Account, LedgerTransaction, Reversal, SettlementLine, Transfer
from royalties.stripe_client import error_code, is_definite_failure

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)


def stuck_after() -> timedelta:
    """An attempt that has not reported back by then is retried by the sweep
    (with the same key while it is pending, so Stripe replays rather than
    repeats): the worker that made it may have died mid-call."""
    return timedelta(seconds=settings.PAYOUT_ATTEMPT_STUCK_SECONDS)


PENDING = "pending"
FAILED = "failed"

Movement = TypeVar("Movement", Transfer, Reversal)


class TransferNotDone(Exception):
    """The Stripe call did not complete; the task should retry later."""


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 1 min, 2, 4… capped at MAX_BACKOFF."""
    return min(timedelta(seconds=60 * (2 ** max(attempts - 1, 0))), MAX_BACKOFF)


def attempt_begin(
    queryset: models.QuerySet[Movement],
    pk: int,
    *,
    finished: tuple[str, ...],
    key_for: Callable[[Movement], str],
) -> tuple[Movement, bool]:
    """Count one more attempt at a movement and commit it before the call.

    Returns (movement, False) when it is already finished. A movement Stripe
    refused (failed) gets a new generation and a new key: the old key is spent.
    """
    with transaction.atomic():
        movement = queryset.select_for_update().get(pk=pk)
        if movement.status in finished:
            return movement, False
        if movement.status == FAILED:
            movement.generation += 1
            movement.idempotency_key = key_for(movement)
            movement.status = PENDING
        movement.attempts += 1
        movement.next_attempt_at = timezone.now() + stuck_after()
        movement.save()
    return movement, True


def attempt_failed(model: type[Movement], pk: int, exc: Exception) -> TransferNotDone:
    """Record a call that did not go through and when to try again.

    A definite refusal (4xx) marks it failed (a new key next time); a network
    error or 5xx leaves it pending (the same key next time). Returns the
    exception for the caller to raise."""
    code = error_code(exc)
    with transaction.atomic():
        movement = model.objects.select_for_update().get(pk=pk)
        if movement.status == PENDING:
            if is_definite_failure(exc):
                movement.status = FAILED
            movement.last_error = f"{code or type(exc).__name__}: {exc}"[:500]
            movement.next_attempt_at = timezone.now() + backoff(movement.attempts)
            movement.save()
    log.warning("%s %s not done (%s): %s", model.__name__, movement.idempotency_key, code, exc)
    return TransferNotDone(str(exc))


def attempt_succeeded(movement: Movement, *, txn: LedgerTransaction, status: str) -> None:
    """A transfer or reversal Stripe confirmed: done, linked to its posting."""
    movement.status = status
    movement.ledger_transaction = txn
    movement.last_error = ""
    movement.next_attempt_at = None
    movement.save()


def payout_move(
    *,
    key: str,
    reason: str,
    line: SettlementLine,
    party_id: int,
    currency: str,
    paid_out_cents: int,
    ref: str,
    memo: str,
) -> LedgerTransaction:
    """Move cents from a party's payable to their paid-out account (a transfer,
    positive) or back (a reversal, negative), in one balanced transaction."""
    return ledger.ledger_post(
        key=key,
        reason=reason,
        currency=currency,
        legs=[
            Leg(Account.Kind.PAYABLE, party_id, paid_out_cents, line.pk),
            Leg(Account.Kind.PAID_OUT, party_id, -paid_out_cents, line.pk),
        ],
        ref=ref,
        memo=memo,
    )
