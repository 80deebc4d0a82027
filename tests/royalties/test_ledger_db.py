"""The database itself refuses to break the ledger's invariants."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from royalties import ledger
from royalties.audit import ledger_verify
from royalties.ledger import Leg, UnbalancedTransaction
from royalties.models import Account, Entry, LedgerTransaction

from .conftest import settle

pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="constraint triggers are PostgreSQL only"
)


def _raw_txn(cursor, key: str) -> int:
    cursor.execute(
        "INSERT INTO royalties_ledgertransaction (idempotency_key, reason, ref, memo, created_at)"
        " VALUES (%s, 'correction', '', '', %s) RETURNING id",
        [key, timezone.now()],
    )
    return cursor.fetchone()[0]


def _raw_entry(cursor, txn_id: int, account_id: int, amount: int, currency: str = "usd"):
    cursor.execute(
        "INSERT INTO royalties_entry (transaction_id, account_id, amount_cents, currency,"
        " created_at) VALUES (%s, %s, %s, %s, %s)",
        [txn_id, account_id, amount, currency, timezone.now()],
    )


@pytest.fixture
def accounts(db):
    cash = Account.objects.create(kind="platform_cash", currency="usd")
    rev = Account.objects.create(kind="platform_revenue", currency="usd")
    return cash, rev


def _check_now():
    with connection.cursor() as c:
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pg_only
def test_unbalanced_raw_insert_fails_at_commit(accounts):
    cash, rev = accounts
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic():
            with connection.cursor() as c:
                txn = _raw_txn(c, "raw-unbalanced")
                _raw_entry(c, txn, cash.pk, 100)
                _raw_entry(c, txn, rev.pk, -99)
            # The deferred trigger fires at commit; force that point here.
            _check_now()


@pg_only
def test_balanced_raw_insert_passes_the_trigger(accounts):
    cash, rev = accounts
    with transaction.atomic():
        with connection.cursor() as c:
            txn = _raw_txn(c, "raw-balanced")
            _raw_entry(c, txn, cash.pk, 100)
            # Unbalanced mid-transaction is fine: only the commit point counts.
            _raw_entry(c, txn, rev.pk, -100)
        _check_now()
    assert ledger.entries_balance("platform_cash", None, "usd") == 100
    # A raw writer skips the balance rows (ledger_post keeps them): verify says so.
    assert f"{cash}: balance row says 0, its entries sum to 100" in ledger_verify()


@pg_only
def test_an_entry_added_after_the_check_is_checked_again(accounts):
    """The trigger checks each ledger transaction once per database transaction;
    an entry inserted after that check (constraints made immediate) is checked
    anew, not waved through as already checked."""
    cash, rev = accounts
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic():
            with connection.cursor() as c:
                txn = _raw_txn(c, "raw-checked-then-changed")
                _raw_entry(c, txn, cash.pk, 100)
                _raw_entry(c, txn, rev.pk, -100)
                _check_now()  # checked once, balanced
                _raw_entry(c, txn, cash.pk, 5)
            _check_now()


@pg_only
def test_transaction_without_entries_is_refused(accounts):
    with pytest.raises(IntegrityError, match="fewer than two"):
        with transaction.atomic():
            with connection.cursor() as c:
                _raw_txn(c, "raw-empty")
            _check_now()


@pg_only
def test_unbalanced_per_currency_is_refused(accounts):
    cash, _rev = accounts
    eur = Account.objects.create(kind="platform_revenue", currency="eur")
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic():
            with connection.cursor() as c:
                txn = _raw_txn(c, "raw-two-currencies")
                _raw_entry(c, txn, cash.pk, 100, "usd")
                _raw_entry(c, txn, eur.pk, -100, "eur")
            _check_now()


@pg_only
def test_entry_currency_must_match_account(accounts):
    cash, _ = accounts
    with pytest.raises(DatabaseError, match="currency"):
        with transaction.atomic():
            with connection.cursor() as c:
                txn = _raw_txn(c, "raw-currency")
                _raw_entry(c, txn, cash.pk, 100, "eur")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE royalties_entry SET amount_cents = amount_cents + 1",
        "DELETE FROM royalties_entry",
        "UPDATE royalties_ledgertransaction SET memo = 'edited'",
        "DELETE FROM royalties_ledgertransaction",
    ],
)
def test_update_and_delete_are_refused(cat, sql):
    if connection.vendor != "postgresql" and sql.startswith("DELETE"):
        pytest.skip("SQLite refuses DELETE in the model layer only (test flush needs it)")
    settle(cat, "o-immutable")
    with pytest.raises((DatabaseError, IntegrityError), match="append-only"):
        with transaction.atomic():
            with connection.cursor() as c:
                c.execute(sql)


def test_ledger_post_checks_balance_in_python(accounts):
    with pytest.raises(UnbalancedTransaction):
        ledger.ledger_post(
            key="py-unbalanced",
            reason="correction",
            currency="usd",
            legs=[Leg("platform_cash", None, 5), Leg("platform_revenue", None, -4)],
        )
    with pytest.raises(UnbalancedTransaction):
        ledger.ledger_post(
            key="py-float",
            reason="correction",
            currency="usd",
            legs=[Leg("platform_cash", None, 5.0), Leg("platform_revenue", None, -5.0)],
        )
    assert not LedgerTransaction.objects.exists()


def test_ledger_post_is_idempotent_and_corrections_reverse(accounts):
    legs = [Leg("platform_cash", None, 7), Leg("platform_revenue", None, -7)]
    t1 = ledger.ledger_post(key="k1", reason="correction", currency="usd", legs=legs)
    t2 = ledger.ledger_post(key="k1", reason="correction", currency="usd", legs=legs)
    assert t1.pk == t2.pk
    assert ledger.balance("platform_cash", None, "usd") == 7
    fix = ledger.ledger_reverse(txn=t1, key="k1-fix")
    assert fix.reverses_id == t1.pk
    assert ledger.balance("platform_cash", None, "usd") == 0
    assert Entry.objects.count() == 4
