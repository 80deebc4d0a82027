"""settlement_post: one balanced transaction per order, exactly once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import SplitShare
from core.errors import Conflict, DomainError
from royalties import ledger
from royalties.models import Entry, Settlement, SettlementBlock, SettlementLine
from royalties.services.settlements import settlement_post

from .conftest import make_split, settle


def test_settlement_posts_cash_revenue_and_payables(cat):
    s = settle(cat, "o1", gross=1000)
    lines = {(ln.kind, ln.party_id): ln.amount_cents for ln in s.lines.all()}
    # 1000: fee 200; master pool 400 (ana 240, bo 160); publishing 400 (ana 200, cy 200)
    assert lines == {
        ("platform_fee", None): 200,
        ("master", cat.ana.pk): 240,
        ("master", cat.bo.pk): 160,
        ("publishing", cat.ana.pk): 200,
        ("publishing", cat.cy.pk): 200,
    }
    assert ledger.balance("platform_cash", None, "usd") == 1000
    assert ledger.balance("platform_revenue", None, "usd") == -200
    assert ledger.balance("payable", cat.ana.pk, "usd") == -440
    assert ledger.balance("payable", cat.cy.pk, "usd") == -200
    assert sum(Entry.objects.values_list("amount_cents", flat=True)) == 0
    assert s.transaction.reason == "settlement"


def test_settlement_is_idempotent_on_order_ref(cat):
    a = settle(cat, "o2", gross=299)
    b = settle(cat, "o2", gross=299)
    assert a.pk == b.pk
    assert Settlement.objects.count() == 1
    assert Entry.objects.filter(transaction=a.transaction).count() == 6
    with pytest.raises(Conflict):
        settle(cat, "o2", gross=300)


def test_concurrent_loser_gets_the_winners_settlement(cat):
    """No caller looks first: the ledger key's insert decides (a concurrent
    one waits for the winner's commit, then skips), and only a loser reads the
    winner's settlement."""
    first = settle(cat, "o-race", gross=500)
    with CaptureQueriesContext(connection) as queries:
        second = settle(cat, "o-race", gross=500)
    assert second.pk == first.pk
    assert Settlement.objects.count() == 1
    sql = [q["sql"] for q in queries]
    claim = next(i for i, q in enumerate(sql) if "royalties_ledgertransaction" in q)
    read = next(i for i, q in enumerate(sql) if 'FROM "royalties_settlement"' in q)
    assert "ON CONFLICT" in sql[claim] and claim < read


def test_bad_split_blocks_settlement_and_flags_it(cat):
    # catalog's deferred trigger refuses such a version at commit (PostgreSQL);
    # inside the test transaction we can build it, and top it up before teardown.
    bad = make_split(recording=cat.recording, shares=[(cat.ana, 6000), (cat.bo, 3000)])
    with pytest.raises(DomainError) as exc:
        settlement_post(
            order_ref="o-bad",
            gross_cents=1000,
            currency="usd",
            master_split_version=bad,
            publishing_split_version=cat.publishing,
            charge_id="ch_bad",
            transfer_group="g",
            remix_ref="r",
            recording=cat.recording,
        )
    assert exc.value.code == "settlement_blocked"
    block = SettlementBlock.objects.get(order_ref="o-bad")
    assert "9000" in block.reason
    assert not Settlement.objects.exists()
    assert not Entry.objects.exists()
    SplitShare.objects.create(version=bad, party=cat.cy, bps=1000)  # for the teardown check


def test_swapped_sides_are_blocked(cat):
    with pytest.raises(DomainError):
        settlement_post(
            order_ref="o-swapped",
            gross_cents=100,
            currency="USD",
            master_split_version=cat.publishing,
            publishing_split_version=cat.master,
            charge_id="ch",
            transfer_group="g",
        )
    assert SettlementBlock.objects.filter(order_ref="o-swapped").exists()


def test_platform_defaults_come_from_settings(cat, settings):
    settings.PLATFORM_FEE_BPS = 1000
    settings.MASTER_POOL_BPS = 6000
    s = settlement_post(
        order_ref="o-defaults",
        gross_cents=1000,
        currency="usd",
        master_split_version=cat.master.pk,
        publishing_split_version=cat.publishing.pk,
        charge_id="ch",
        transfer_group="g",
    )
    fee = SettlementLine.objects.get(settlement=s, kind="platform_fee")
    assert fee.amount_cents == 100
    assert s.recording_id == cat.recording.pk
