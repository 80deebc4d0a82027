"""Posting to the double-entry ledger, and reading balances from entries.

`ledger_post` is the only writer of LedgerTransaction and Entry. It checks in
Python that the entries balance per currency (the PostgreSQL constraint trigger
checks it again at commit, whoever writes), skips zero amounts, and is
idempotent on its key: posting the same key twice returns the first transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from catalog.errors import DomainError

from .models import Account, Entry, LedgerTransaction

Kind = Account.Kind


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a posting: an account (kind, party id) and a signed amount."""

    kind: str
    party_id: int | None
    amount_cents: int
    line_id: int | None = None


class UnbalancedTransaction(DomainError):
    default_code = "ledger_unbalanced"
    status_code = 500


def account_id(kind: str, party_id: int | None, currency: str) -> int:
    """The id of the (kind, party, currency) account, created on first use."""
    return account_ids({(kind, party_id)}, currency)[(kind, party_id)]


def account_ids(pairs: set[tuple[str, int | None]], currency: str) -> dict:
    """{(kind, party_id): account id} for every pair, creating missing accounts.

    One query when they all exist. Safe under concurrent creators: the unique
    constraint decides and the loser reads the winner's row. (No process-wide
    cache: ids must not outlive a rolled-back transaction.)
    """
    party_ids = {p for _, p in pairs if p is not None}
    kinds = {k for k, _ in pairs}
    found: dict[tuple[str, int | None], int] = {}
    qs = Account.objects.filter(currency=currency, kind__in=kinds)
    if party_ids:
        qs = qs.filter(Q(party_id__in=party_ids) | Q(party__isnull=True))
    else:
        qs = qs.filter(party__isnull=True)
    for pk, k, p in qs.values_list("pk", "kind", "party_id"):
        found[(k, p)] = pk
    for kind, party_id in pairs:
        if (kind, party_id) in found:
            continue
        try:
            with transaction.atomic():
                acct = Account.objects.create(kind=kind, party_id=party_id, currency=currency)
        except IntegrityError:
            acct = Account.objects.get(kind=kind, party_id=party_id, currency=currency)
        found[(kind, party_id)] = acct.pk
    return found


def ledger_post(
    *,
    key: str,
    reason: str,
    currency: str,
    legs: Iterable[Leg],
    ref: str = "",
    memo: str = "",
    reverses: LedgerTransaction | None = None,
    at=None,
) -> LedgerTransaction:
    """Post one balanced transaction. Must run inside the caller's atomic block
    (the deferred trigger fires at that block's commit)."""
    legs = [leg for leg in legs if leg.amount_cents != 0]
    for leg in legs:
        if not isinstance(leg.amount_cents, int) or isinstance(leg.amount_cents, bool):
            raise UnbalancedTransaction(f"ledger amounts are integers, got {leg.amount_cents!r}")
    total = sum(leg.amount_cents for leg in legs)
    if total != 0:
        raise UnbalancedTransaction(f"transaction {key} is unbalanced by {total} {currency}")
    if len(legs) < 2:
        raise UnbalancedTransaction(f"transaction {key} needs at least two non-zero legs")
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    now = at or timezone.now()
    with transaction.atomic():
        txn = LedgerTransaction.objects.create(
            idempotency_key=key,
            reason=reason,
            ref=ref[:200],
            memo=memo[:300],
            reverses=reverses,
            created_at=now,
        )
        ids = account_ids({(leg.kind, leg.party_id) for leg in legs}, currency)
        Entry.objects.bulk_create(
            [
                Entry(
                    transaction=txn,
                    account_id=ids[(leg.kind, leg.party_id)],
                    amount_cents=leg.amount_cents,
                    currency=currency,
                    created_at=now,
                    line_id=leg.line_id,
                )
                for leg in legs
            ]
        )
    return txn


def ledger_reverse(*, txn: LedgerTransaction, key: str, memo: str = "") -> LedgerTransaction:
    """A correction: a new transaction with every entry of `txn` negated."""
    by_currency: dict[str, list[Leg]] = defaultdict(list)
    for e in txn.entries.select_related("account"):
        by_currency[e.currency].append(
            Leg(e.account.kind, e.account.party_id, -e.amount_cents, e.line_id)
        )
    if len(by_currency) != 1:
        raise DomainError("only single-currency transactions can be reversed", code="ledger")
    ((currency, legs),) = by_currency.items()
    return ledger_post(
        key=key,
        reason=LedgerTransaction.Reason.CORRECTION,
        currency=currency,
        legs=legs,
        ref=txn.ref,
        memo=memo or f"reverses #{txn.pk}",
        reverses=txn,
    )


def balance(kind: str, party_id: int | None, currency: str) -> int:
    total = Entry.objects.filter(
        account__kind=kind, account__party_id=party_id, currency=currency
    ).aggregate(s=Sum("amount_cents"))["s"]
    return int(total or 0)


def party_balances(party_id: int, currency: str | None = None) -> dict[str, dict[str, int]]:
    """{currency: {"payable": …, "paid_out": …, "receivable": …}} as signed ledger sums."""
    qs = Entry.objects.filter(account__party_id=party_id)
    if currency:
        qs = qs.filter(currency=currency)
    out: dict[str, dict[str, int]] = defaultdict(
        lambda: {"payable": 0, "paid_out": 0, "receivable": 0}
    )
    for row in qs.values("currency", "account__kind").annotate(s=Sum("amount_cents")):
        out[row["currency"]][row["account__kind"]] = int(row["s"] or 0)
    return dict(out)
