"""Transfers: one Stripe Transfer per payable line of an onboarded party
(payable → paid_out on success), its key saved before the call."""

from __future__ import annotations

import stripe
from django.db import transaction
from django.utils import timezone

from royalties import ledger
from royalties import stripe_client as stripe_api
from royalties.ledger import Leg
from royalties.models import Account, LedgerTransaction, Payee, SettlementLine, Transfer

from .movements import attempt_begin, attempt_failed, attempt_succeeded, payout_move
from .reversals import line_reverse_deficit

OPEN = (Transfer.Status.PENDING, Transfer.Status.FAILED)
FINISHED = (Transfer.Status.SUCCEEDED, Transfer.Status.CANCELED)


def transfer_key(line_id: int, seq: int, generation: int) -> str:
    suffix = stripe_api.idempotency_suffix()
    return f"clearmix-transfer-line{line_id}-{seq}-g{generation}-{suffix}"


def transfer_prepare(*, line_id: int) -> Transfer | None:
    """Decide what to send for one payable line and save it (with its
    idempotency key) before any call. Returns the transfer to execute, or None
    when nothing can or need be sent (not onboarded, nothing owed)."""
    with transaction.atomic():
        line = (
            SettlementLine.objects.select_for_update()
            .select_related("settlement")
            .filter(pk=line_id)
            .first()
        )
        if line is None or line.party_id is None:
            return None
        payee = Payee.objects.filter(party_id=line.party_id).first()
        if payee is None or not payee.can_receive:
            return None
        owed = line.owed_cents
        open_tr = line.transfers.filter(status__in=OPEN).first()
        if open_tr is not None:
            if open_tr.status == Transfer.Status.PENDING or open_tr.amount_cents == owed:
                return open_tr
            # A failed transfer whose amount no longer matches (a refund came
            # in meanwhile): it was never made, so cancel it and start afresh.
            open_tr.status = Transfer.Status.CANCELED
            open_tr.last_error = (open_tr.last_error + " | canceled: amount changed")[:500]
            open_tr.save(update_fields=["status", "last_error", "updated_at"])
        if owed > 0:
            owed = _offset_receivable(line, owed)
        if owed <= 0:
            return None
        return _transfer_create(line, payee, owed)


def _transfer_create(line: SettlementLine, payee: Payee, amount_cents: int) -> Transfer:
    seq = line.transfers.count() + 1
    return Transfer.objects.create(
        line=line,
        seq=seq,
        party_id=line.party_id,
        amount_cents=amount_cents,
        currency=line.settlement.currency,
        destination=payee.stripe_account_id,
        transfer_group=line.settlement.transfer_group,
        source_transaction=line.settlement.charge_id,
        idempotency_key=transfer_key(line.pk, seq, 1),
    )


def _offset_receivable(line: SettlementLine, owed: int) -> int:
    """Take what the party owes us (failed reversals) out of this line first."""
    currency = line.settlement.currency
    # Serialise offsets per party: the payee row is the party's lock.
    Payee.objects.select_for_update().filter(party_id=line.party_id).first()
    receivable = ledger.balance(Account.Kind.RECEIVABLE, line.party_id, currency)
    if receivable <= 0:
        return owed
    taken = min(receivable, owed)
    ledger.ledger_post(
        key=f"offset:line{line.pk}:{line.offset_cents}+{taken}",
        reason=LedgerTransaction.Reason.OFFSET,
        currency=currency,
        legs=[
            Leg(Account.Kind.PAYABLE, line.party_id, taken, line.pk),
            Leg(Account.Kind.RECEIVABLE, line.party_id, -taken, line.pk),
        ],
        ref=line.settlement.order_ref,
        memo="receivable offset against earnings",
    )
    line.offset_cents += taken
    line.save(update_fields=["offset_cents"])
    return owed - taken


def transfer_execute(*, transfer_id: int) -> Transfer:
    """Send one saved transfer through the Stripe SDK and record the outcome.

    Raises TransferNotDone when it must be retried (the transfer stays owed,
    with next_attempt_at set by exponential backoff)."""
    tr, started = attempt_begin(
        Transfer.objects.all(),
        transfer_id,
        finished=FINISHED,
        key_for=lambda t: transfer_key(t.line_id, t.seq, t.generation),
    )
    if not started:
        return tr
    try:
        obj = stripe_api.stripe_client().v1.transfers.create(
            params={
                "amount": tr.amount_cents,
                "currency": tr.currency,
                "destination": tr.destination,
                "transfer_group": tr.transfer_group,
                "source_transaction": tr.source_transaction,
                "metadata": {
                    "clearmix_transfer_id": str(tr.pk),
                    "clearmix_line_id": str(tr.line_id),
                    "clearmix_party_id": str(tr.party_id),
                },
            },
            options={"idempotency_key": tr.idempotency_key},
        )
    except stripe.StripeError as exc:
        raise attempt_failed(Transfer, transfer_id, exc) from exc
    return transfer_record_success(transfer_id=transfer_id, stripe_transfer_id=obj.id)


def transfer_record_success(*, transfer_id: int, stripe_transfer_id: str) -> Transfer:
    with transaction.atomic():
        tr = Transfer.objects.select_for_update().get(pk=transfer_id)
        if tr.status == Transfer.Status.SUCCEEDED:
            return tr
        line = SettlementLine.objects.select_for_update().get(pk=tr.line_id)
        txn = payout_move(
            key=f"transfer:{tr.pk}",
            reason=LedgerTransaction.Reason.TRANSFER,
            line=line,
            party_id=tr.party_id,
            currency=tr.currency,
            paid_out_cents=tr.amount_cents,
            ref=stripe_transfer_id,
            memo=f"transfer to {tr.destination}",
        )
        tr.stripe_transfer_id = stripe_transfer_id
        attempt_succeeded(tr, txn=txn, status=Transfer.Status.SUCCEEDED)
        line.transferred_cents += tr.amount_cents
        line.save(update_fields=["transferred_cents"])
        # A refund that landed while this transfer was in flight.
        line_reverse_deficit(line)
    return tr


def transfer_line_pay(*, line_id: int, force: bool = False) -> Transfer | None:
    """Prepare and send the transfer for one line. A transfer that is in
    flight or backing off is left alone unless `force`."""
    tr = transfer_prepare(line_id=line_id)
    if tr is None:
        return None
    waiting = tr.attempts > 0 and tr.next_attempt_at and tr.next_attempt_at > timezone.now()
    if waiting and not force:
        return tr
    return transfer_execute(transfer_id=tr.pk)
