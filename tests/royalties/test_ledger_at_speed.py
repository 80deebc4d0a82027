"""A ledger that keeps up: settlements in a fixed number of statements, batches,
per-account balance rows that always equal the entries, exactly once per order."""

from __future__ import annotations

import random
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from catalog.models import SplitShare
from royalties import enqueue, ledger, selectors, tasks
from royalties.audit import ledger_verify
from royalties.models import (
    Account,
    AccountBalance,
    Entry,
    Reversal,
    Settlement,
    SettlementBlock,
)
from royalties.services import refunds, reversals, sweeps
from royalties.services.settlements import SettlementRequest, settlements_post

from .conftest import make_catalog, make_split, onboard, settle

PG = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda *a: None)


def _request(cat, ref: str, gross: int = 1000, **kw) -> SettlementRequest:
    return SettlementRequest(
        order_ref=ref,
        gross_cents=gross,
        currency="usd",
        master_split_version=kw.pop("master", cat.master),
        publishing_split_version=cat.publishing,
        charge_id=f"ch_{ref}",
        transfer_group=f"order_{ref}",
        remix_ref=f"remix-{ref}",
        recording=cat.recording,
        platform_fee_bps=2000,
        master_pool_bps=5000,
        **kw,
    )


def _balances_equal_entries() -> dict[int, int]:
    kept = dict(AccountBalance.objects.values_list("account_id", "balance_cents"))
    summed = dict(
        Entry.objects.values("account_id")
        .annotate(s=Sum("amount_cents"))
        .values_list("account_id", "s")
    )
    assert kept == summed
    return kept


# What one batch costs, in statements, whatever its size (accounts already exist):
# shares (split versions given as instances); ledger transactions, whose unique
# keys settle each order once (no lock, no read of orders settled before);
# settlements with their blocks resolved (SQLite: two statements); lines;
# accounts; entries; [PostgreSQL: the ledger's deferred checks, run before the
# shared balance rows are locked]; the balances; payees that can receive. (The
# test's own transaction holds the batch's; outside a test, BEGIN and COMMIT,
# which Django does not count.) Every insert is one
# statement up to SQLite's parameter limit (32766), so 50 orders too.
BATCH_QUERIES = 9


@pytest.mark.parametrize("orders", [1, 50])
def test_a_batch_costs_the_same_statements_as_one_settlement(cat, orders):
    settle(cat, "warm-up")  # the accounts exist from now on
    requests = [_request(cat, f"o{i}", gross=100 + i) for i in range(orders)]
    with CaptureQueriesContext(connection) as queries:
        results = settlements_post(requests)
    assert [s.order_ref for s in results] == [f"o{i}" for i in range(orders)]
    assert len(queries) == BATCH_QUERIES, "\n".join(q["sql"][:120] for q in queries)
    assert Settlement.objects.count() == orders + 1
    assert Entry.objects.count() == 6 * (orders + 1)
    _balances_equal_entries()
    assert ledger_verify() == []


def test_settlement_post_is_a_batch_of_one(cat, django_assert_num_queries):
    settle(cat, "warm-up")
    with django_assert_num_queries(BATCH_QUERIES):
        s = settle(cat, "o1", gross=1000)
    assert s.transaction.reason == "settlement"
    # A repeat: one read of the shares, the ledger key found taken, the settlement read.
    with django_assert_num_queries(3):
        assert settle(cat, "o1", gross=1000).pk == s.pk


def test_onboarded_lines_queue_their_transfers_in_the_same_statements(cat, monkeypatch):
    settle(cat, "warm-up")
    onboard(cat.ana)
    queued: list = []
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda *a: queued.append(a))
    with CaptureQueriesContext(connection) as queries:
        settlements_post([_request(cat, "o1"), _request(cat, "o2")])
    assert len(queries) == BATCH_QUERIES
    ana_lines = Settlement.objects.filter(order_ref__in=["o1", "o2"]).values_list(
        "lines__pk", "lines__party"
    )
    assert sorted(queued) == sorted(
        (enqueue.TRANSFER_LINE, pk) for pk, party in ana_lines if party == cat.ana.pk
    )


def test_a_batch_settles_each_order_once_and_says_why_it_refused_others(cat):
    # catalog's deferred trigger refuses such a version at commit (PostgreSQL);
    # inside the test transaction we can build it, and top it up before teardown.
    bad = make_split(recording=cat.recording, shares=[(cat.ana, 6000), (cat.bo, 3000)])
    first = settle(cat, "o-old", gross=500)
    results = settlements_post(
        [
            _request(cat, "o1"),
            _request(cat, "o-old", gross=500),  # settled before: the same settlement
            _request(cat, "o1"),  # twice in one batch: settled once
            _request(cat, "o-bad", master=bad),
            _request(cat, "o-old", gross=501),  # a different amount: a conflict
            _request(cat, "o-zero", gross=0),
        ]
    )
    assert results[0].order_ref == "o1" and results[2].pk == results[0].pk
    assert results[1].pk == first.pk
    assert results[3].code == "settlement_blocked"
    assert "500 usd, not 501 usd" in results[4].message
    assert results[5].fields == {"gross_cents": ["invalid"]}
    assert sorted(Settlement.objects.values_list("order_ref", flat=True)) == ["o-old", "o1"]
    assert SettlementBlock.objects.get().order_ref == "o-bad"
    assert ledger_verify() == []
    SplitShare.objects.create(version=bad, party=cat.cy, bps=1000)  # for the teardown check


def test_the_batch_task_takes_keys_and_counts_what_it_settled(cat):
    payload = {
        "gross_cents": 1000,
        "currency": "usd",
        "master_split_version": cat.master.pk,
        "publishing_split_version": cat.publishing.pk,
        "recording": cat.recording.pk,
    }
    requests = [
        {"order_ref": ref, "charge_id": f"ch_{ref}", "transfer_group": ref, **payload}
        for ref in ("t1", "t2", "t1")
    ]
    assert tasks.settlements_post(requests) == {"settled": 3, "refused": 0}
    assert Settlement.objects.count() == 2
    assert -ledger.balance("payable", cat.ana.pk, "usd") == 2 * 440


def test_balances_equal_entries_after_settle_refund_reversal_and_sweep(cat, fake_stripe):
    onboard(cat.ana, "acct_ana")
    settle(cat, "o1", gross=1000)
    settle(cat, "o2", gross=299)
    sweeps.payouts_sweep(run_inline=True)  # transfers: payable → paid_out
    fake_stripe.insufficient_balance.add("acct_ana")
    refunds.refund_post(refund_id="re_1", amount_cents=500, order_ref="o1")
    for r in Reversal.objects.all():  # refused: a receivable
        reversals.reversal_execute(reversal_id=r.pk)
    fake_stripe.insufficient_balance.clear()
    refunds.refund_post(refund_id="re_2", amount_cents=100, order_ref="o2")
    for r in Reversal.objects.filter(status="pending"):  # a reversal that lands
        reversals.reversal_execute(reversal_id=r.pk)
    settle(cat, "o3", gross=1000)
    sweeps.payouts_sweep(run_inline=True)  # the receivable is offset first
    kept = _balances_equal_entries()
    assert len(kept) == Account.objects.count()
    assert ledger_verify() == []
    assert ledger.balance("platform_cash", None, "usd") == 1000 + 299 + 1000 - 500 - 100


def test_verify_ledger_reports_a_tampered_balance(cat):
    settle(cat, "o1", gross=1000)
    call_command("verify_ledger")
    account = Account.objects.get(kind="payable", party=cat.bo)
    AccountBalance.objects.filter(account=account).update(balance_cents=-1)
    problems = ledger_verify()
    assert problems == [f"{account}: balance row says -1, its entries sum to -160"]
    with pytest.raises(CommandError, match="balance row says -1"):
        call_command("verify_ledger")


def test_dashboards_read_one_balance_row_per_account(cat, django_assert_num_queries):
    for i in range(5):
        settle(cat, f"o{i}", gross=1000)
    refunds.refund_post(refund_id="re_1", amount_cents=500, order_ref="o0")
    with django_assert_num_queries(2):  # balance rows, payees
        (summary,) = selectors.payout_summaries([cat.ana])
    (totals,) = summary["totals"]
    # ana earns 440 of each 1000; the refund of half of o0 takes 220 back.
    assert (totals.currency, totals.earned, totals.owed, totals.paid_out) == (
        "usd",
        5 * 440 - 220,
        5 * 440 - 220,
        0,
    )
    with django_assert_num_queries(1):
        assert ledger.balance("payable", cat.bo.pk, "usd") == -(5 * 160 - 80)


@pytest.mark.skipif(not PG, reason="concurrent writers need PostgreSQL")
def test_duplicate_storm_settles_each_order_once(transactional_db):
    with transaction.atomic():  # splits are checked whole at commit
        cat = make_catalog()
    refs = [f"storm-{i}" for i in range(30)]
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        order = refs[:]
        random.Random(seed).shuffle(order)
        try:
            for start in range(0, len(order), 7):
                settlements_post([_request(cat, ref) for ref in order[start : start + 7]])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Settlement.objects.filter(order_ref__in=refs).count() == len(refs)
    assert Entry.objects.filter(transaction__ref__in=refs).count() == 6 * len(refs)
    _balances_equal_entries()
    assert ledger.balance("platform_cash", None, "usd") == 1000 * len(refs)
    assert ledger_verify() == []
