"""Transfer reversals: taking back from a party's Stripe account what a line
no longer earns (a refund or a dispute after the transfer), or, when Stripe
refuses for lack of balance, recording it as owed by the party."""

from __future__ import annotations

import logging

import stripe
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from royalties import enqueue, ledger
from royalties import stripe_client as stripe_api
from royalties.ledger import Leg
from royalties.models import Account, LedgerTransaction, Reversal, SettlementLine, Transfer

from .movements import attempt_begin, attempt_failed, attempt_succeeded, payout_move

log = logging.getLogger(__name__)

OPEN = (Reversal.Status.PENDING, Reversal.Status.FAILED)
FINISHED = (Reversal.Status.SUCCEEDED, Reversal.Status.RECEIVABLE, Reversal.Status.CANCELED)


def reversal_key(transfer_id: int, seq: int, generation: int) -> str:
    suffix = stripe_api.idempotency_suffix()
    return f"clearmix-reversal-tr{transfer_id}-{seq}-g{generation}-{suffix}"


def line_reverse_deficit(line: SettlementLine) -> list[Reversal]:
    """When a line has been paid out beyond what it now earns, reverse the
    difference from its transfers (newest first). Call under the line's lock."""
    if line.party_id is None:
        return []
    in_flight = (
        Reversal.objects.filter(transfer__line=line, status__in=OPEN).aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
    )
    deficit = -line.owed_cents - in_flight
    created: list[Reversal] = []
    if deficit <= 0:
        return created
    for tr in line.transfers.filter(status=Transfer.Status.SUCCEEDED).order_by("-seq"):
        used = (
            tr.reversals.exclude(status=Reversal.Status.CANCELED).aggregate(s=Sum("amount_cents"))[
                "s"
            ]
            or 0
        )
        amount = min(tr.amount_cents - used, deficit)
        if amount <= 0:
            continue
        seq = tr.reversals.count() + 1
        rev = Reversal.objects.create(
            transfer=tr, seq=seq, amount_cents=amount, idempotency_key=reversal_key(tr.pk, seq, 1)
        )
        created.append(rev)
        enqueue.task_enqueue_on_commit(enqueue.REVERSAL_EXECUTE, rev.pk)
        deficit -= amount
        if deficit == 0:
            break
    if deficit > 0:
        # Nothing left to reverse (transfers in flight): the next transfer
        # success calls this again.
        log.info("line %s: %s still to reverse once transfers land", line.pk, deficit)
    return created


def line_retrim_reversals(line: SettlementLine) -> None:
    """The line earns again (dispute won, refund failed): reversals not yet sent
    (or refused by Stripe) are canceled and only what is still needed is
    queued again. A reversal already attempted stays: it may have happened."""
    Reversal.objects.filter(transfer__line=line).filter(
        Q(status=Reversal.Status.PENDING, attempts=0) | Q(status=Reversal.Status.FAILED)
    ).update(status=Reversal.Status.CANCELED, updated_at=timezone.now())
    line_reverse_deficit(line)


def reversal_execute(*, reversal_id: int) -> Reversal:
    """Reverse (part of) a transfer through the SDK. `balance_insufficient`
    turns the amount into a receivable from the party; other refusals retry."""
    rev, started = attempt_begin(
        Reversal.objects.select_related("transfer"),
        reversal_id,
        finished=FINISHED,
        key_for=lambda r: reversal_key(r.transfer_id, r.seq, r.generation),
    )
    if not started:
        return rev
    try:
        obj = stripe_api.stripe_client().v1.transfers.reversals.create(
            rev.transfer.stripe_transfer_id,
            params={"amount": rev.amount_cents, "metadata": {"clearmix_reversal_id": str(rev.pk)}},
            options={"idempotency_key": rev.idempotency_key},
        )
    except stripe.StripeError as exc:
        if stripe_api.error_code(exc) == "balance_insufficient":
            return _reversal_to_receivable(reversal_id=reversal_id, error=str(exc))
        raise attempt_failed(Reversal, reversal_id, exc) from exc
    return _reversal_record(reversal_id=reversal_id, stripe_reversal_id=obj.id)


def _reversal_record(*, reversal_id: int, stripe_reversal_id: str) -> Reversal:
    with transaction.atomic():
        rev = Reversal.objects.select_for_update().select_related("transfer").get(pk=reversal_id)
        if rev.status == Reversal.Status.SUCCEEDED:
            return rev
        tr = rev.transfer
        line = SettlementLine.objects.select_for_update().get(pk=tr.line_id)
        txn = payout_move(
            key=f"reversal:{rev.pk}",
            reason=LedgerTransaction.Reason.REVERSAL,
            line=line,
            party_id=tr.party_id,
            currency=tr.currency,
            paid_out_cents=-rev.amount_cents,
            ref=stripe_reversal_id,
            memo=f"reversal of {tr.stripe_transfer_id}",
        )
        rev.stripe_reversal_id = stripe_reversal_id
        attempt_succeeded(rev, txn=txn, status=Reversal.Status.SUCCEEDED)
        line.reversed_cents += rev.amount_cents
        line.save(update_fields=["reversed_cents"])
    return rev


def _reversal_to_receivable(*, reversal_id: int, error: str) -> Reversal:
    with transaction.atomic():
        rev = Reversal.objects.select_for_update().select_related("transfer").get(pk=reversal_id)
        if rev.status in (Reversal.Status.SUCCEEDED, Reversal.Status.RECEIVABLE):
            return rev
        tr = rev.transfer
        line = SettlementLine.objects.select_for_update().get(pk=tr.line_id)
        txn = ledger.ledger_post(
            key=f"receivable:{rev.pk}",
            reason=LedgerTransaction.Reason.RECEIVABLE,
            currency=tr.currency,
            legs=[
                Leg(Account.Kind.RECEIVABLE, tr.party_id, rev.amount_cents, line.pk),
                Leg(Account.Kind.PAYABLE, tr.party_id, -rev.amount_cents, line.pk),
            ],
            ref=tr.stripe_transfer_id or "",
            memo="reversal refused (balance_insufficient): owed by party",
        )
        rev.status = Reversal.Status.RECEIVABLE
        rev.ledger_transaction = txn
        rev.last_error = error[:500]
        rev.next_attempt_at = None
        rev.save()
        line.receivable_cents += rev.amount_cents
        line.save(update_fields=["receivable_cents"])
    return rev
