"""Posting to the double-entry ledger, and reading its balances.

`ledger_post`, `ledger_post_new` and the settlement batch (`ledger_transactions_claim`,
then `ledger_entries_create`) are the only writers of LedgerTransaction,
Entry and AccountBalance. They check in Python that the entries balance per
currency (the PostgreSQL constraint trigger checks it again at commit, whoever
writes), skip zero amounts, and add each posting to its accounts' balance rows
in the same database transaction. `ledger_post` is idempotent on its key:
posting the same key twice returns the first transaction. `ledger_post_new`
posts many transactions in a fixed number of statements, for callers that
already own their keys' uniqueness; a settlement batch claims its keys with
`ledger_transactions_claim` (an insert that skips keys taken, waiting for a
concurrent holder), then adds the claimed postings' entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from core.errors import DomainError

from .bulk import instances_insert, rows_insert, rows_insert_new
from .models import Account, AccountBalance, Entry, LedgerTransaction

Kind = Account.Kind


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a posting: an account (kind, party id) and a signed amount."""

    kind: str
    party_id: int | None
    amount_cents: int
    line_id: int | None = None


@dataclass(frozen=True)
class Posting:
    """One balanced ledger transaction to write."""

    key: str
    reason: str
    currency: str
    legs: Sequence[Leg]
    ref: str = ""
    memo: str = ""
    reverses: LedgerTransaction | None = None
    at: datetime | None = None
    nonzero: list[Leg] = field(init=False)

    def __post_init__(self) -> None:
        legs = [leg for leg in self.legs if leg.amount_cents != 0]
        for leg in legs:
            if not isinstance(leg.amount_cents, int) or isinstance(leg.amount_cents, bool):
                raise UnbalancedTransaction(
                    f"ledger amounts are integers, got {leg.amount_cents!r}"
                )
        total = sum(leg.amount_cents for leg in legs)
        if total != 0:
            raise UnbalancedTransaction(
                f"transaction {self.key} is unbalanced by {total} {self.currency}"
            )
        if len(legs) < 2:
            raise UnbalancedTransaction(f"transaction {self.key} needs at least two non-zero legs")
        object.__setattr__(self, "nonzero", legs)


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
    for kind, party_id in sorted(pairs - found.keys(), key=lambda pair: (pair[0], pair[1] or 0)):
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
    at: datetime | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction, once per key. Runs in the caller's atomic
    block when there is one (the deferred trigger fires at that block's commit)."""
    posting = Posting(key, reason, currency, list(legs), ref, memo, reverses, at)
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic(savepoint=False):
        return ledger_post_new([posting])[0]


def ledger_post_new(postings: Sequence[Posting]) -> list[LedgerTransaction]:
    """Post transactions whose keys are new (a key posted before raises
    IntegrityError), in four statements whatever their number: transactions,
    accounts, entries, balances (plus one per account created). Must run inside
    the caller's atomic block."""
    txns = ledger_transactions_create(postings)
    ledger_entries_create(postings, txns)
    return txns


def ledger_transactions_create(postings: Sequence[Posting]) -> list[LedgerTransaction]:
    """The transaction rows of new postings (one statement); their entries
    must follow in the same database transaction (`ledger_entries_create`),
    or the constraint trigger refuses the commit."""
    now = timezone.now()
    txns = [
        LedgerTransaction(
            idempotency_key=p.key,
            reason=p.reason,
            ref=p.ref[:200],
            memo=p.memo[:300],
            reverses=p.reverses,
            created_at=p.at or now,
        )
        for p in postings
    ]
    instances_insert(LedgerTransaction, TRANSACTION_COLUMNS, txns)
    return txns


TRANSACTION_COLUMNS = ("idempotency_key", "reason", "ref", "memo", "reverses_id", "created_at")


def ledger_transactions_claim(postings: Sequence[Posting]) -> list[LedgerTransaction | None]:
    """The transaction rows of postings whose keys are new, in one statement;
    None for a key posted before (or by a concurrent transaction that commits
    first: the insert waits for it). The keys are the exactly-once lock of
    whoever posts them (see `bulk.rows_insert_new`); the claimed postings'
    entries must follow in the same database transaction
    (`ledger_entries_create`)."""
    now = timezone.now()
    rows = [
        (p.key, p.reason, p.ref[:200], p.memo[:300], _pk(p.reverses), p.at or now) for p in postings
    ]
    ids = rows_insert_new(LedgerTransaction, TRANSACTION_COLUMNS, rows, unique="idempotency_key")
    out: list[LedgerTransaction | None] = []
    for key, reason, ref, memo, reverses_id, at in rows:
        if key not in ids:
            out.append(None)
            continue
        txn = LedgerTransaction(
            pk=ids.pop(key),  # a key named twice is claimed once
            idempotency_key=key,
            reason=reason,
            ref=ref,
            memo=memo,
            reverses_id=reverses_id,
            created_at=at,
        )
        txn._state.adding = False
        txn._state.db = connection.alias
        out.append(txn)
    return out


def _pk(obj: LedgerTransaction | None) -> int | None:
    return None if obj is None else obj.pk


def ledger_entries_create(postings: Sequence[Posting], txns: Sequence[LedgerTransaction]) -> None:
    """The entries of each posting under its transaction, and the balance rows
    they move: accounts, entries, [PostgreSQL: the deferred checks], balances,
    one statement each. The balance upsert comes last: it locks rows every
    posting shares, held until commit."""
    ids = _account_ids_for(postings)
    rows = [
        (
            txn.pk,
            ids[(p.currency, leg.kind, leg.party_id)],
            leg.amount_cents,
            p.currency,
            txn.created_at,
            leg.line_id,
        )
        for p, txn in zip(postings, txns, strict=True)
        for leg in p.nonzero
    ]
    if not rows:
        return
    rows_insert(Entry, ENTRY_COLUMNS, rows, returning=False)
    sql, params = _balances_upsert((account, amount) for _, account, amount, *_ in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The deferred checks now, before the balance rows are locked
            # (royalties migration 0004): commit then has little left to do.
            cursor.execute("SELECT royalties_ledger_checks_now()")
        cursor.execute(sql, params)


ENTRY_COLUMNS = (
    "transaction_id",
    "account_id",
    "amount_cents",
    "currency",
    "created_at",
    "line_id",
)


def _account_ids_for(postings: Sequence[Posting]) -> dict[tuple[str, str, int | None], int]:
    pairs_by_currency: dict[str, set[tuple[str, int | None]]] = defaultdict(set)
    for p in postings:
        pairs_by_currency[p.currency].update((leg.kind, leg.party_id) for leg in p.nonzero)
    return {
        (currency, kind, party_id): pk
        for currency, pairs in pairs_by_currency.items()
        for (kind, party_id), pk in account_ids(pairs, currency).items()
    }


def _balances_upsert(amounts: Iterable[tuple[int, int]]) -> tuple[str, list]:
    """The statement that adds (account id, amount) pairs to their accounts'
    balance rows: one upsert, rows in account order so that concurrent
    postings lock them in the same order (a posting always moves at least two
    accounts, so it is never empty)."""
    delta: dict[int, int] = defaultdict(int)
    for account, amount in amounts:
        delta[account] += amount
    table = connection.ops.quote_name(AccountBalance._meta.db_table)
    rows = sorted(delta.items())
    values = ", ".join(["(%s, %s)"] * len(rows))
    # Only the table name is formatted in (from the model); values are parameters.
    return (
        f"INSERT INTO {table} (account_id, balance_cents) VALUES {values} "  # noqa: S608
        f"ON CONFLICT (account_id) DO UPDATE "
        f"SET balance_cents = {table}.balance_cents + excluded.balance_cents",
        [x for row in rows for x in row],
    )


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
    """The account's balance, read from its balance row (one query)."""
    found = AccountBalance.objects.filter(
        account__kind=kind, account__party_id=party_id, account__currency=currency
    ).values_list("balance_cents", flat=True)
    return int(next(iter(found), 0))


def balances_by_party(
    party_ids: Iterable[int], currency: str | None = None
) -> dict[int, dict[str, dict[str, int]]]:
    """{party: {currency: {"payable": …, "paid_out": …, "receivable": …}}},
    signed balances from the balance rows, in one query."""
    qs = AccountBalance.objects.filter(account__party_id__in=list(party_ids))
    if currency:
        qs = qs.filter(account__currency=currency)
    out: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    rows = qs.values_list(
        "account__party_id", "account__currency", "account__kind", "balance_cents"
    )
    for party_id, cur, kind, cents in rows:
        out[party_id].setdefault(cur, {"payable": 0, "paid_out": 0, "receivable": 0})[kind] = int(
            cents
        )
    return dict(out)


def party_balances(party_id: int, currency: str | None = None) -> dict[str, dict[str, int]]:
    """{currency: {"payable": …, "paid_out": …, "receivable": …}} as signed balances."""
    return balances_by_party([party_id], currency).get(party_id, {})


def entries_balance(kind: str, party_id: int | None, currency: str) -> int:
    """The account's balance summed from its entries (what the balance row must equal)."""
    total = Entry.objects.filter(
        account__kind=kind, account__party_id=party_id, currency=currency
    ).aggregate(s=Sum("amount_cents"))["s"]
    return int(total or 0)
