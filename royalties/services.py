"""Every write of the royalties app.

Money flow (Stripe Connect, separate charges and transfers):

1. `settlement_post` — a paid order: cash in, platform fee, one payable per
   rights holder line, in one database transaction, once per order_ref.
2. `transfer_prepare` / `transfer_execute` — one Stripe Transfer per payable
   line of an onboarded party (payable → paid_out on success). Parties not
   onboarded accrue; `payouts_sweep` pays what is owed once they can receive.
3. `refund_post` / `dispute_open_post` — a refund or dispute spread pro rata
   over what is left of each line; lines already transferred get a transfer
   reversal, or a receivable from the party if the reversal cannot be made.
4. `dispute_close_post` — a won dispute reinstates the money and pays again.

Stripe calls are never made inside a database transaction: the record with
its idempotency key is committed first, then the SDK is called, then the result
is recorded in a second transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import ExpressionWrapper, F, IntegerField, Q, Sum
from django.utils import timezone

from catalog.errors import Conflict, DomainError, NotFound
from catalog.models import Party, Recording, SplitVersion

from . import ledger
from .ledger import Leg
from .models import (
    Account,
    LedgerTransaction,
    OnboardingAttempt,
    Payee,
    Refund,
    RefundLine,
    Reversal,
    Settlement,
    SettlementBlock,
    SettlementLine,
    Transfer,
)
from .splits import BPS_WHOLE, SplitError, allocate, compute_split
from .stripe_client import error_code, is_definite_failure, stripe_client

log = logging.getLogger(__name__)

K = Account.Kind
R = LedgerTransaction.Reason
MAX_BACKOFF = timedelta(hours=6)
STUCK_AFTER = timedelta(minutes=10)


class SettlementBlocked(DomainError):
    default_code = "settlement_blocked"
    status_code = 409


class TransferNotDone(Exception):
    """The Stripe call did not complete; the task should retry later."""


def _enqueue(task_name: str, *args) -> None:
    """Queue a royalties task after the current transaction commits."""
    from . import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(*args))


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=60 * (2 ** max(attempts - 1, 0))), MAX_BACKOFF)


# --- Settlement ---------------------------------------------------------------


def _as_version(value) -> SplitVersion | None:
    if value is None:
        return None
    if isinstance(value, SplitVersion):
        return value
    return SplitVersion.objects.filter(pk=value).first()


def _shares(version: SplitVersion) -> list[tuple[int, int]]:
    return list(version.shares.values_list("party_id", "bps"))


@dataclass(frozen=True)
class _Plan:
    master: SplitVersion
    publishing: SplitVersion
    lines: list


def _plan(
    *,
    order_ref,
    gross_cents,
    currency,
    master_split_version,
    publishing_split_version,
    recording,
    platform_fee_bps,
    master_pool_bps,
) -> _Plan:
    problems: list[str] = []
    details: dict = {"gross_cents": gross_cents, "currency": currency}
    master = _as_version(master_split_version)
    publishing = _as_version(publishing_split_version)
    if master is None or master.side != SplitVersion.Side.MASTER:
        problems.append("master split version missing or not a master split")
    if publishing is None or publishing.side != SplitVersion.Side.PUBLISHING:
        problems.append("publishing split version missing or not a publishing split")
    master_shares = _shares(master) if master else []
    publishing_shares = _shares(publishing) if publishing else []
    recording_id = getattr(recording, "pk", recording)
    if master and recording_id and master.recording_id != recording_id:
        problems.append("master split version belongs to another recording")
    for name, version, shares in (
        ("master", master, master_shares),
        ("publishing", publishing, publishing_shares),
    ):
        if version is not None:
            total = sum(b for _, b in shares)
            details[f"{name}_split_version"] = version.pk
            details[f"{name}_bps_total"] = total
            if total != BPS_WHOLE:
                problems.append(f"{name} split v{version.number} sums to {total} bps, not 10000")
    lines = []
    if not problems:
        try:
            lines = compute_split(
                gross_cents=gross_cents,
                currency=currency,
                platform_fee_bps=platform_fee_bps,
                master_pool_bps=master_pool_bps,
                master_shares=master_shares,
                publishing_shares=publishing_shares,
            )
        except SplitError as exc:
            problems.append(str(exc))
    if problems:
        reason = "; ".join(problems)
        details["problems"] = problems
        # Its own transaction (a savepoint when nested): staff see it even
        # though the settlement itself is refused.
        with transaction.atomic():
            SettlementBlock.objects.update_or_create(
                order_ref=order_ref,
                defaults={"reason": reason[:300], "details": details, "resolved_at": None},
            )
        log.error("settlement blocked for %s: %s", order_ref, reason)
        raise SettlementBlocked(
            f"Settlement of {order_ref} is blocked: {reason}", fields={"order_ref": reason}
        )
    return _Plan(master=master, publishing=publishing, lines=lines)


def settlement_post(
    *,
    order_ref: str,
    gross_cents: int,
    currency: str,
    master_split_version,
    publishing_split_version,
    charge_id: str,
    transfer_group: str,
    remix_ref: str = "",
    recording: Recording | int | None = None,
    platform_fee_bps: int | None = None,
    master_pool_bps: int | None = None,
    created_at=None,
) -> Settlement:
    """Post a paid order to the ledger once, and queue its transfers after commit.

    Idempotent on `order_ref` (a unique constraint decides between concurrent
    callers; the loser gets the winner's settlement). Raises `SettlementBlocked`
    (a DomainError) and records a `SettlementBlock` staff can see when a split
    version does not sum to 10000 bps. Split versions and recording may be
    model instances or primary keys.
    """
    currency = (currency or "").lower()
    if not isinstance(gross_cents, int) or isinstance(gross_cents, bool) or gross_cents <= 0:
        raise DomainError(
            "gross_cents must be a positive integer", fields={"gross_cents": "invalid"}
        )
    existing = Settlement.objects.filter(order_ref=order_ref).first()
    if existing is not None:
        return _same_or_conflict(existing, gross_cents, currency)
    fee_bps = settings.PLATFORM_FEE_BPS if platform_fee_bps is None else platform_fee_bps
    pool_bps = settings.MASTER_POOL_BPS if master_pool_bps is None else master_pool_bps
    plan = _plan(
        order_ref=order_ref,
        gross_cents=gross_cents,
        currency=currency,
        master_split_version=master_split_version,
        publishing_split_version=publishing_split_version,
        recording=recording,
        platform_fee_bps=fee_bps,
        master_pool_bps=pool_bps,
    )
    recording_id = getattr(recording, "pk", recording) or plan.master.recording_id
    try:
        with transaction.atomic():
            settlement = _settlement_create(
                order_ref=order_ref,
                gross_cents=gross_cents,
                currency=currency,
                charge_id=charge_id,
                transfer_group=transfer_group,
                remix_ref=remix_ref,
                recording_id=recording_id,
                plan=plan,
                fee_bps=fee_bps,
                pool_bps=pool_bps,
                created_at=created_at or timezone.now(),
            )
    except IntegrityError:
        existing = Settlement.objects.filter(order_ref=order_ref).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, gross_cents, currency)
    SettlementBlock.objects.filter(order_ref=order_ref, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    _enqueue_transfers_for(settlement)
    return settlement


def _same_or_conflict(existing: Settlement, gross_cents: int, currency: str) -> Settlement:
    if existing.gross_cents != gross_cents or existing.currency != currency:
        raise Conflict(
            f"order {existing.order_ref} was settled for {existing.gross_cents} "
            f"{existing.currency}, not {gross_cents} {currency}"
        )
    return existing


def _settlement_create(
    *,
    order_ref,
    gross_cents,
    currency,
    charge_id,
    transfer_group,
    remix_ref,
    recording_id,
    plan,
    fee_bps,
    pool_bps,
    created_at,
) -> Settlement:
    settlement = Settlement.objects.create(
        order_ref=order_ref,
        gross_cents=gross_cents,
        currency=currency,
        charge_id=charge_id,
        transfer_group=transfer_group,
        remix_ref=remix_ref,
        recording_id=recording_id,
        master_split_version=plan.master,
        publishing_split_version=plan.publishing,
        platform_fee_bps=fee_bps,
        master_pool_bps=pool_bps,
        created_at=created_at,
    )
    lines = SettlementLine.objects.bulk_create(
        [
            SettlementLine(
                settlement=settlement,
                kind=sl.kind,
                party_id=sl.party_key,
                bps=sl.bps,
                amount_cents=sl.amount_cents,
            )
            for sl in plan.lines
        ]
    )
    legs = [Leg(K.PLATFORM_CASH, None, gross_cents)]
    for line in lines:
        if line.kind == SettlementLine.Kind.PLATFORM_FEE:
            legs.append(Leg(K.PLATFORM_REVENUE, None, -line.amount_cents, line.pk))
        else:
            legs.append(Leg(K.PAYABLE, line.party_id, -line.amount_cents, line.pk))
    txn = ledger.ledger_post(
        key=f"settlement:{order_ref}",
        reason=R.SETTLEMENT,
        currency=currency,
        legs=legs,
        ref=order_ref,
        memo=f"remix {remix_ref}" if remix_ref else "",
        at=created_at,
    )
    Settlement.objects.filter(pk=settlement.pk).update(transaction=txn)
    settlement.transaction = txn
    return settlement


def _enqueue_transfers_for(settlement: Settlement) -> None:
    receiving = set(
        Payee.objects.filter(
            party_id__in=settlement.lines.exclude(party__isnull=True).values("party_id"),
            charges_enabled=True,
            payouts_enabled=True,
            transfers_active=True,
            stripe_account_id__isnull=False,
        ).values_list("party_id", flat=True)
    )
    for line_id, party_id in settlement.lines.filter(amount_cents__gt=0).values_list(
        "pk", "party_id"
    ):
        if party_id in receiving:
            _enqueue("transfer_line", line_id)


# --- Transfers ----------------------------------------------------------------


def _transfer_key(line_id: int, seq: int, generation: int) -> str:
    return f"clearmix-transfer-line{line_id}-{seq}-g{generation}"


def _reversal_key(transfer_id: int, seq: int, generation: int) -> str:
    return f"clearmix-reversal-tr{transfer_id}-{seq}-g{generation}"


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
        open_tr = line.transfers.filter(
            status__in=[Transfer.Status.PENDING, Transfer.Status.FAILED]
        ).first()
        if open_tr is not None:
            if open_tr.status == Transfer.Status.PENDING or open_tr.amount_cents == owed:
                return open_tr
            # A failed transfer whose amount no longer matches (a refund came
            # in meanwhile): it was never made, so cancel it and start afresh.
            open_tr.status = Transfer.Status.CANCELED
            open_tr.last_error = (open_tr.last_error + " | canceled: amount changed")[:500]
            open_tr.save(update_fields=["status", "last_error", "updated_at"])
        if owed <= 0:
            return None
        owed = _offset_receivable(line, owed)
        if owed <= 0:
            return None
        seq = line.transfers.count() + 1
        return Transfer.objects.create(
            line=line,
            seq=seq,
            party_id=line.party_id,
            amount_cents=owed,
            currency=line.settlement.currency,
            destination=payee.stripe_account_id,
            transfer_group=line.settlement.transfer_group,
            source_transaction=line.settlement.charge_id,
            idempotency_key=_transfer_key(line.pk, seq, 1),
        )


def _offset_receivable(line: SettlementLine, owed: int) -> int:
    """Take what the party owes us (failed reversals) out of this line first."""
    currency = line.settlement.currency
    # Serialise offsets per party: the payee row is the party's lock.
    Payee.objects.select_for_update().filter(party_id=line.party_id).first()
    receivable = ledger.balance(K.RECEIVABLE, line.party_id, currency)
    if receivable <= 0:
        return owed
    x = min(receivable, owed)
    ledger.ledger_post(
        key=f"offset:line{line.pk}:{line.offset_cents}+{x}",
        reason=R.OFFSET,
        currency=currency,
        legs=[
            Leg(K.PAYABLE, line.party_id, x, line.pk),
            Leg(K.RECEIVABLE, line.party_id, -x, line.pk),
        ],
        ref=line.settlement.order_ref,
        memo="receivable offset against earnings",
    )
    line.offset_cents += x
    line.save(update_fields=["offset_cents"])
    return owed - x


def transfer_execute(*, transfer_id: int) -> Transfer:
    """Send one saved transfer through the Stripe SDK and record the outcome.

    Raises TransferNotDone when it must be retried (the transfer stays owed,
    with next_attempt_at set by exponential backoff)."""
    with transaction.atomic():
        tr = Transfer.objects.select_for_update().get(pk=transfer_id)
        if tr.status in (Transfer.Status.SUCCEEDED, Transfer.Status.CANCELED):
            return tr
        if tr.status == Transfer.Status.FAILED:
            # Stripe refused the last key; a new key for a new attempt.
            tr.generation += 1
            tr.idempotency_key = _transfer_key(tr.line_id, tr.seq, tr.generation)
            tr.status = Transfer.Status.PENDING
        tr.attempts += 1
        tr.next_attempt_at = timezone.now() + STUCK_AFTER
        tr.save()
    try:
        obj = stripe_client().v1.transfers.create(
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
        definite = is_definite_failure(exc)
        with transaction.atomic():
            tr = Transfer.objects.select_for_update().get(pk=transfer_id)
            if tr.status == Transfer.Status.PENDING:
                if definite:
                    tr.status = Transfer.Status.FAILED
                tr.last_error = f"{error_code(exc) or type(exc).__name__}: {exc}"[:500]
                tr.next_attempt_at = timezone.now() + _backoff(tr.attempts)
                tr.save()
        log.warning("transfer %s failed (%s): %s", tr.idempotency_key, error_code(exc), exc)
        raise TransferNotDone(str(exc)) from exc
    return transfer_record_success(transfer_id=transfer_id, stripe_transfer_id=obj.id)


def _payout_move(
    *, key, reason, line, party_id, currency, paid_out_cents: int, ref: str, memo: str
):
    """Move cents from a party's payable to their paid-out account (a transfer,
    positive) or back (a reversal, negative), in one balanced transaction."""
    return ledger.ledger_post(
        key=key,
        reason=reason,
        currency=currency,
        legs=[
            Leg(K.PAYABLE, party_id, paid_out_cents, line.pk),
            Leg(K.PAID_OUT, party_id, -paid_out_cents, line.pk),
        ],
        ref=ref,
        memo=memo,
    )


def _mark_succeeded(movement, *, txn, status) -> None:
    """A transfer or reversal Stripe confirmed: done, linked to its posting."""
    movement.status = status
    movement.ledger_transaction = txn
    movement.last_error = ""
    movement.next_attempt_at = None
    movement.save()


def transfer_record_success(*, transfer_id: int, stripe_transfer_id: str) -> Transfer:
    with transaction.atomic():
        tr = (
            Transfer.objects.select_for_update()
            .select_related("line__settlement")
            .get(pk=transfer_id)
        )
        if tr.status == Transfer.Status.SUCCEEDED:
            return tr
        line = SettlementLine.objects.select_for_update().get(pk=tr.line_id)
        txn = _payout_move(
            key=f"transfer:{tr.pk}",
            reason=R.TRANSFER,
            line=line,
            party_id=tr.party_id,
            currency=tr.currency,
            paid_out_cents=tr.amount_cents,
            ref=stripe_transfer_id,
            memo=f"transfer to {tr.destination}",
        )
        tr.stripe_transfer_id = stripe_transfer_id
        _mark_succeeded(tr, txn=txn, status=Transfer.Status.SUCCEEDED)
        line.transferred_cents += tr.amount_cents
        line.save(update_fields=["transferred_cents"])
        # A refund that landed while this transfer was in flight.
        _reverse_deficit(line)
    return tr


# --- Refunds, disputes, reversals ---------------------------------------------


def _settlement_for(*, order_ref: str | None = None, charge_id: str | None = None) -> Settlement:
    qs = Settlement.objects.select_for_update()
    s = qs.filter(order_ref=order_ref).first() if order_ref else None
    if s is None and charge_id:
        s = qs.filter(charge_id=charge_id).order_by("id").first()
    if s is None:
        raise NotFound(
            f"no settlement for order {order_ref or '?'} / charge {charge_id or '?'} (yet)",
            code="settlement_missing",
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


def _refund_create(*, refund_id, amount_cents, order_ref, charge_id, kind) -> Refund | None:
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
    legs = [Leg(K.PLATFORM_CASH, None, -amount_cents)]
    for line, part in zip(lines, parts, strict=True):
        if line.kind == SettlementLine.Kind.PLATFORM_FEE:
            legs.append(Leg(K.PLATFORM_REVENUE, None, part, line.pk))
        else:
            legs.append(Leg(K.PAYABLE, line.party_id, part, line.pk))
    txn = ledger.ledger_post(
        key=f"{kind}:{refund_id}",
        reason=R.DISPUTE if kind == Refund.Kind.DISPUTE else R.REFUND,
        currency=s.currency,
        legs=legs,
        ref=s.order_ref,
        memo=f"{kind} {refund_id}",
    )
    refund = Refund.objects.create(
        external_id=refund_id,
        kind=kind,
        settlement=s,
        amount_cents=amount_cents,
        transaction=txn,
    )
    RefundLine.objects.bulk_create(
        [
            RefundLine(refund=refund, line=line, amount_cents=part)
            for line, part in zip(lines, parts, strict=True)
            if part
        ]
    )
    for line, part in zip(lines, parts, strict=True):
        if part:
            line.refunded_cents += part
            line.save(update_fields=["refunded_cents"])
            _cancel_failed_transfers(line)
            _reverse_deficit(line)
    return refund


def _cancel_failed_transfers(line: SettlementLine) -> None:
    line.transfers.filter(status=Transfer.Status.FAILED).update(
        status=Transfer.Status.CANCELED, updated_at=timezone.now()
    )


def _reverse_deficit(line: SettlementLine) -> list[Reversal]:
    """When a line has been paid out beyond what it now earns, reverse the
    difference from its transfers (newest first). Call under the line's lock."""
    if line.party_id is None:
        return []
    in_flight = (
        Reversal.objects.filter(
            transfer__line=line, status__in=[Reversal.Status.PENDING, Reversal.Status.FAILED]
        ).aggregate(s=Sum("amount_cents"))["s"]
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
        room = tr.amount_cents - used
        if room <= 0:
            continue
        amt = min(room, deficit)
        seq = tr.reversals.count() + 1
        rev = Reversal.objects.create(
            transfer=tr, seq=seq, amount_cents=amt, idempotency_key=_reversal_key(tr.pk, seq, 1)
        )
        created.append(rev)
        _enqueue("reversal_execute", rev.pk)
        deficit -= amt
        if deficit == 0:
            break
    if deficit > 0:
        # Nothing left to reverse (transfers in flight): the next transfer
        # success calls this again.
        log.info("line %s: %s still to reverse once transfers land", line.pk, deficit)
    return created


def _retrim_reversals(line: SettlementLine) -> None:
    """The line earns again (dispute won, refund failed): reversals not yet sent
    (or refused by Stripe) are canceled and only what is still needed is
    queued again. A reversal already attempted stays: it may have happened."""
    Reversal.objects.filter(transfer__line=line).filter(
        Q(status=Reversal.Status.PENDING, attempts=0) | Q(status=Reversal.Status.FAILED)
    ).update(status=Reversal.Status.CANCELED, updated_at=timezone.now())
    _reverse_deficit(line)


def reversal_execute(*, reversal_id: int) -> Reversal:
    """Reverse (part of) a transfer through the SDK. `balance_insufficient`
    turns the amount into a receivable from the party; other refusals retry."""
    with transaction.atomic():
        rev = Reversal.objects.select_for_update().select_related("transfer").get(pk=reversal_id)
        if rev.status in (
            Reversal.Status.SUCCEEDED,
            Reversal.Status.RECEIVABLE,
            Reversal.Status.CANCELED,
        ):
            return rev
        if rev.status == Reversal.Status.FAILED:
            rev.generation += 1
            rev.idempotency_key = _reversal_key(rev.transfer_id, rev.seq, rev.generation)
            rev.status = Reversal.Status.PENDING
        rev.attempts += 1
        rev.next_attempt_at = timezone.now() + STUCK_AFTER
        rev.save()
    tr = rev.transfer
    try:
        obj = stripe_client().v1.transfers.reversals.create(
            tr.stripe_transfer_id,
            params={
                "amount": rev.amount_cents,
                "metadata": {"clearmix_reversal_id": str(rev.pk)},
            },
            options={"idempotency_key": rev.idempotency_key},
        )
    except stripe.StripeError as exc:
        code = error_code(exc)
        if code == "balance_insufficient":
            return _reversal_to_receivable(reversal_id=reversal_id, error=str(exc))
        with transaction.atomic():
            rev = Reversal.objects.select_for_update().get(pk=reversal_id)
            if rev.status == Reversal.Status.PENDING:
                if is_definite_failure(exc):
                    rev.status = Reversal.Status.FAILED
                rev.last_error = f"{code or type(exc).__name__}: {exc}"[:500]
                rev.next_attempt_at = timezone.now() + _backoff(rev.attempts)
                rev.save()
        raise TransferNotDone(str(exc)) from exc
    return _reversal_record(reversal_id=reversal_id, stripe_reversal_id=obj.id)


def _reversal_record(*, reversal_id: int, stripe_reversal_id: str) -> Reversal:
    with transaction.atomic():
        rev = Reversal.objects.select_for_update().select_related("transfer").get(pk=reversal_id)
        if rev.status == Reversal.Status.SUCCEEDED:
            return rev
        tr = rev.transfer
        line = SettlementLine.objects.select_for_update().get(pk=tr.line_id)
        txn = _payout_move(
            key=f"reversal:{rev.pk}",
            reason=R.REVERSAL,
            line=line,
            party_id=tr.party_id,
            currency=tr.currency,
            paid_out_cents=-rev.amount_cents,
            ref=stripe_reversal_id,
            memo=f"reversal of {tr.stripe_transfer_id}",
        )
        rev.stripe_reversal_id = stripe_reversal_id
        _mark_succeeded(rev, txn=txn, status=Reversal.Status.SUCCEEDED)
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
            reason=R.RECEIVABLE,
            currency=tr.currency,
            legs=[
                Leg(K.RECEIVABLE, tr.party_id, rev.amount_cents, line.pk),
                Leg(K.PAYABLE, tr.party_id, -rev.amount_cents, line.pk),
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
        if refund is None:
            return None
        if refund.status != Refund.Status.POSTED:
            return refund
        if not won:
            refund.status = Refund.Status.LOST
            refund.save(update_fields=["status"])
            return refund
        s = Settlement.objects.select_for_update().get(pk=refund.settlement_id)
        rlines = list(refund.lines.select_related("line").order_by("line_id"))
        lines = {
            ln.pk: ln
            for ln in SettlementLine.objects.select_for_update().filter(
                pk__in=[r.line_id for r in rlines]
            )
        }
        legs = [Leg(K.PLATFORM_CASH, None, refund.amount_cents)]
        for r in rlines:
            line = lines[r.line_id]
            kind = K.PLATFORM_REVENUE if line.party_id is None else K.PAYABLE
            legs.append(Leg(kind, line.party_id, -r.amount_cents, line.pk))
        ledger.ledger_post(
            key=f"reinstate:{refund.kind}:{refund_id}",
            reason=R.DISPUTE_WON,
            currency=s.currency,
            legs=legs,
            ref=s.order_ref,
            memo=f"{refund.kind} {refund_id} reinstated",
            reverses=refund.transaction,
        )
        refund.status = Refund.Status.REINSTATED
        refund.save(update_fields=["status"])
        for r in rlines:
            line = lines[r.line_id]
            line.refunded_cents -= r.amount_cents
            line.save(update_fields=["refunded_cents"])
            _retrim_reversals(line)
            if line.party_id is not None and line.owed_cents > 0:
                _enqueue("transfer_line", line.pk)
    return refund


def dispute_close_post(*, dispute_id: str, status: str) -> Refund | None:
    if status == "won":
        return refund_reinstate(refund_id=dispute_id, won=True)
    if status == "lost":
        return refund_reinstate(refund_id=dispute_id, won=False)
    return Refund.objects.filter(external_id=dispute_id).first()


# --- Connect onboarding ---------------------------------------------------------


def payee_apply_account(*, account, event_created: int | None = None) -> Payee | None:
    """Apply a Stripe Account object's state to its payee. Events may arrive
    out of order: an older event than the last applied one is ignored. When the
    account becomes able to receive transfers, what the party is owed is swept."""
    acct_id = _get(account, "id")
    with transaction.atomic():
        payee = Payee.objects.select_for_update().filter(stripe_account_id=acct_id).first()
        if payee is None:
            party_id = _get(_get(account, "metadata") or {}, "clearmix_party_id")
            if party_id and str(party_id).isdigit():
                payee = (
                    Payee.objects.select_for_update()
                    .filter(party_id=int(party_id), stripe_account_id__isnull=True)
                    .first()
                )
                if payee is not None:
                    payee.stripe_account_id = acct_id
        if payee is None:
            return None
        if event_created is not None:
            if event_created < payee.last_event_created:
                return payee
            payee.last_event_created = event_created
        could = payee.can_receive
        caps = _get(account, "capabilities") or {}
        reqs = _get(account, "requirements") or {}
        payee.charges_enabled = bool(_get(account, "charges_enabled"))
        payee.payouts_enabled = bool(_get(account, "payouts_enabled"))
        payee.details_submitted = bool(_get(account, "details_submitted"))
        payee.transfers_active = _get(caps, "transfers") == "active"
        payee.requirements_due = list(_get(reqs, "currently_due") or [])
        payee.save()
        if payee.can_receive and not could:
            _enqueue("payouts_sweep", payee.party_id)
    return payee


def payee_deauthorize(*, stripe_account_id: str) -> None:
    Payee.objects.filter(stripe_account_id=stripe_account_id).update(
        charges_enabled=False,
        payouts_enabled=False,
        transfers_active=False,
        updated_at=timezone.now(),
    )


def payee_onboarding_link(*, party: Party, user, return_url: str, refresh_url: str) -> str:
    """Create (once) the party's Express account and a fresh onboarding link."""
    payee, _ = Payee.objects.get_or_create(party=party)
    client = stripe_client()
    if not payee.stripe_account_id:
        key = f"clearmix-account-party{party.pk}"
        Payee.objects.filter(pk=payee.pk).update(account_idempotency_key=key)
        params = {
            "type": "express",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"clearmix_party_id": str(party.pk)},
        }
        if getattr(user, "email", ""):
            params["email"] = user.email
        acct = client.v1.accounts.create(params=params, options={"idempotency_key": key})
        with transaction.atomic():
            payee = Payee.objects.select_for_update().get(pk=payee.pk)
            if not payee.stripe_account_id:
                payee.stripe_account_id = acct.id
                payee.save(update_fields=["stripe_account_id", "updated_at"])
        payee_apply_account(account=acct)
        payee.refresh_from_db()
    with transaction.atomic():
        payee = Payee.objects.select_for_update().get(pk=payee.pk)
        payee.link_seq += 1
        payee.save(update_fields=["link_seq", "updated_at"])
        attempt = OnboardingAttempt.objects.create(
            payee=payee,
            idempotency_key=f"clearmix-accountlink-party{party.pk}-{payee.link_seq}",
            requested_by=user if getattr(user, "pk", None) else None,
        )
    link = client.v1.account_links.create(
        params={
            "account": payee.stripe_account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        },
        options={"idempotency_key": attempt.idempotency_key},
    )
    OnboardingAttempt.objects.filter(pk=attempt.pk).update(url=link.url[:1000])
    return link.url


def payee_refresh(*, party: Party) -> Payee | None:
    """Re-read the party's account from Stripe (on return from onboarding)."""
    payee = Payee.objects.filter(party=party).first()
    if payee is None or not payee.stripe_account_id:
        return payee
    acct = stripe_client().v1.accounts.retrieve(payee.stripe_account_id)
    return payee_apply_account(account=acct)


# --- Sweep ----------------------------------------------------------------------


OWED = ExpressionWrapper(
    F("amount_cents")
    - F("refunded_cents")
    - F("offset_cents")
    - F("transferred_cents")
    + F("reversed_cents")
    + F("receivable_cents"),
    output_field=IntegerField(),
)


def lines_owed(party_id: int | None = None):
    qs = (
        SettlementLine.objects.exclude(kind=SettlementLine.Kind.PLATFORM_FEE)
        .annotate(owed=OWED)
        .filter(owed__gt=0)
    )
    if party_id is not None:
        qs = qs.filter(party_id=party_id)
    return qs


def payouts_sweep(
    *, party_id: int | None = None, run_inline: bool = False, force: bool = False
) -> dict:
    """Pay what is owed to parties that can receive, and retry what is due.

    Returns counts. With run_inline the work is done here (commands, tests);
    otherwise it is queued as one task per line / transfer / reversal.
    """
    now = timezone.now()
    receiving = Payee.objects.filter(
        charges_enabled=True,
        payouts_enabled=True,
        transfers_active=True,
        stripe_account_id__isnull=False,
    )
    if party_id is not None:
        receiving = receiving.filter(party_id=party_id)
    due = Q() if force else Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
    rev_qs = Reversal.objects.filter(
        due, status__in=[Reversal.Status.PENDING, Reversal.Status.FAILED]
    )
    if party_id is not None:
        rev_qs = rev_qs.filter(transfer__party_id=party_id)
    rev_ids = list(rev_qs.values_list("pk", flat=True))
    result = {"lines": 0, "reversals": len(rev_ids), "errors": 0}
    if run_inline:
        # Reversals first: one that lands can leave its line owed again.
        for rev_id in rev_ids:
            try:
                reversal_execute(reversal_id=rev_id)
            except TransferNotDone:
                result["errors"] += 1
    line_ids = set(
        lines_owed(party_id)
        .filter(party_id__in=receiving.values("party_id"))
        .values_list("pk", flat=True)
    )
    line_ids |= set(
        Transfer.objects.filter(
            due,
            status__in=[Transfer.Status.PENDING, Transfer.Status.FAILED],
            party_id__in=receiving.values("party_id"),
        ).values_list("line_id", flat=True)
    )
    all_lines = sorted(line_ids)
    result["lines"] = len(all_lines)
    if run_inline:
        for line_id in all_lines:
            try:
                transfer_line_pay(line_id=line_id, force=force)
            except TransferNotDone:
                result["errors"] += 1
        return result
    from . import tasks

    for rev_id in rev_ids:
        tasks.reversal_execute.delay(rev_id)  # sent now: the sweep is not in a transaction
    for line_id in all_lines:
        tasks.transfer_line.delay(line_id)
    return result


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


# --- helpers --------------------------------------------------------------------


def _get(obj, key, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    try:
        return obj[key]
    except (KeyError, TypeError, AttributeError):
        return getattr(obj, key, default)
