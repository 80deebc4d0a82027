"""Transfers, refunds, reversals, receivables and disputes (fake Stripe client)."""

from __future__ import annotations

import pytest

from royalties import enqueue, ledger, webhooks
from royalties.audit import ledger_verify
from royalties.models import Payee, Refund, Reversal, SettlementLine, Transfer
from royalties.services import refunds, reversals, sweeps

from .conftest import onboard, settle


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    # Tasks queued after commit are run explicitly by the tests (sweep).
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda *a: None)


def owed(party, currency="usd"):
    return -ledger.balance("payable", party.pk, currency)


def test_onboarded_party_gets_one_transfer_per_line(cat, fake_stripe):
    onboard(cat.ana)
    s = settle(cat, "o1", gross=1000)
    sweeps.payouts_sweep(run_inline=True)
    calls = [c for c in fake_stripe.calls if c[0] == "transfer"]
    # ana has two lines (master 240, publishing 200) -> two transfers.
    assert sorted(c[2] for c in calls) == [200, 240]
    assert all(c[1] == f"acct_{cat.ana.pk}" for c in calls)
    tr = fake_stripe.transfers_by_key[calls[0][3]]
    assert tr.transfer_group == "order_o1" and tr.source_transaction == s.charge_id
    assert owed(cat.ana) == 0
    assert ledger.balance("paid_out", cat.ana.pk, "usd") == -440
    assert owed(cat.bo) == 160 and owed(cat.cy) == 200  # not onboarded: accrue
    assert ledger_verify() == []
    # Idempotent: a second sweep sends nothing more.
    sweeps.payouts_sweep(run_inline=True)
    assert len([c for c in fake_stripe.calls if c[0] == "transfer"]) == 2


def test_account_updated_sweeps_what_is_owed(cat, fake_stripe, monkeypatch):
    settle(cat, "o1", gross=1000)
    settle(cat, "o2", gross=500)
    Payee.objects.create(party=cat.bo, stripe_account_id="acct_bo")
    swept = []
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda name, *a: swept.append((name, a)))
    event = {
        "type": "account.updated",
        "created": 100,
        "data": {
            "object": {
                "id": "acct_bo",
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "capabilities": {"transfers": "active"},
                "requirements": {"currently_due": []},
            }
        },
    }
    payee = webhooks.handle_account_updated(event)
    assert payee.can_receive
    assert swept == [(enqueue.PAYOUTS_SWEEP, (cat.bo.pk,))]
    sweeps.payouts_sweep(party_id=cat.bo.pk, run_inline=True)
    assert owed(cat.bo) == 0
    assert ledger.balance("paid_out", cat.bo.pk, "usd") == -(160 + 80)
    # An older event arriving late does not switch transfers off.
    stale = {**event, "created": 50}
    stale["data"] = {"object": {**event["data"]["object"], "payouts_enabled": False}}
    assert webhooks.handle_account_updated(stale).can_receive
    assert ledger_verify() == []


def test_transfers_need_the_transfers_capability(cat, fake_stripe):
    payee = onboard(cat.ana)
    payee.transfers_active = False
    payee.save()
    settle(cat, "o1")
    sweeps.payouts_sweep(run_inline=True)
    assert fake_stripe.calls == []


def test_failed_transfer_stays_owed_and_retries_with_a_new_key(cat, fake_stripe):
    onboard(cat.bo)
    settle(cat, "o1", gross=1000)
    fake_stripe.fail_transfers = True
    result = sweeps.payouts_sweep(run_inline=True)
    assert result["errors"] == 1
    tr = Transfer.objects.get()
    assert tr.status == "failed" and tr.next_attempt_at is not None
    assert owed(cat.bo) == 160
    # Not due yet: a normal sweep leaves it alone.
    sweeps.payouts_sweep(run_inline=True)
    assert len(fake_stripe.calls) == 1
    fake_stripe.fail_transfers = False
    sweeps.payouts_sweep(run_inline=True, force=True)
    tr.refresh_from_db()
    assert tr.status == "succeeded" and tr.generation == 2
    first_key, second_key = (call[3] for call in fake_stripe.calls)
    assert "-g1-" in first_key and "-g2-" in second_key and tr.idempotency_key == second_key
    assert owed(cat.bo) == 0
    assert ledger_verify() == []


def test_partial_then_full_refund_before_transfer(cat, fake_stripe):
    s = settle(cat, "o1", gross=1000)
    refunds.refund_post(refund_id="re_1", amount_cents=250, order_ref="o1")
    refunds.refund_post(refund_id="re_1", amount_cents=250, order_ref="o1")  # twice
    lines = {(ln.kind, ln.party_id): ln for ln in s.lines.all()}
    assert sum(ln.refunded_cents for ln in lines.values()) == 250
    assert lines[("platform_fee", None)].refunded_cents == 50
    assert ledger.balance("platform_cash", None, "usd") == 750
    refunds.refund_post(refund_id="re_2", amount_cents=750, charge_id="ch_o1")
    assert ledger.balance("platform_cash", None, "usd") == 0
    assert all(ln.refunded_cents == ln.amount_cents for ln in s.lines.all())
    assert owed(cat.ana) == 0
    with pytest.raises(Exception, match="exceeds"):
        refunds.refund_post(refund_id="re_3", amount_cents=1, order_ref="o1")
    assert ledger_verify() == []


def test_refund_after_transfer_reverses_it(cat, fake_stripe):
    onboard(cat.ana)
    settle(cat, "o1", gross=1000)
    sweeps.payouts_sweep(run_inline=True)
    refunds.refund_post(refund_id="re_1", amount_cents=1000, order_ref="o1")
    revs = list(Reversal.objects.order_by("pk"))
    assert sorted(r.amount_cents for r in revs) == [200, 240]
    for r in revs:
        reversals.reversal_execute(reversal_id=r.pk)
    assert ledger.balance("paid_out", cat.ana.pk, "usd") == 0
    assert owed(cat.ana) == 0
    assert all(tr.amount_reversed == tr.amount for tr in fake_stripe.transfers.values())
    assert ledger_verify() == []


def test_reversal_without_balance_becomes_a_receivable_offset_later(cat, fake_stripe):
    onboard(cat.ana, "acct_ana")
    settle(cat, "o1", gross=1000)
    sweeps.payouts_sweep(run_inline=True)
    fake_stripe.insufficient_balance.add("acct_ana")
    refunds.refund_post(refund_id="re_1", amount_cents=500, order_ref="o1")
    for r in Reversal.objects.all():
        reversals.reversal_execute(reversal_id=r.pk)
    assert set(Reversal.objects.values_list("status", flat=True)) == {"receivable"}
    receivable = ledger.balance("receivable", cat.ana.pk, "usd")
    assert receivable == 220  # half of 440, spread pro rata
    assert ledger_verify() == []
    # Next sale: the receivable is taken out of ana's earnings first.
    settle(cat, "o2", gross=1000)
    sweeps.payouts_sweep(run_inline=True)
    assert ledger.balance("receivable", cat.ana.pk, "usd") == 0
    sent = sum(c[2] for c in fake_stripe.calls if c[0] == "transfer" and c[1] == "acct_ana")
    assert sent == 440 + 440 - 220
    assert ledger_verify() == []


def test_dispute_then_won_reinstates_and_pays_again(cat, fake_stripe, monkeypatch):
    onboard(cat.ana)
    settle(cat, "o1", gross=1000)
    sweeps.payouts_sweep(run_inline=True)
    monkeypatch.setattr(webhooks, "stripe_client", lambda: (_ for _ in ()).throw(RuntimeError()))
    created = {
        "type": "charge.dispute.created",
        "data": {
            "object": {"id": "dp_1", "charge": "ch_o1", "amount": 1000, "status": "needs_response"}
        },
    }
    webhooks.handle_dispute_created(created)
    webhooks.handle_dispute_created(created)  # delivered twice
    assert Refund.objects.get().kind == "dispute"
    for r in Reversal.objects.all():
        reversals.reversal_execute(reversal_id=r.pk)
    assert ledger.balance("platform_cash", None, "usd") == 0
    assert ledger_verify() == []
    closed = {
        "type": "charge.dispute.closed",
        "data": {"object": {"id": "dp_1", "charge": "ch_o1", "amount": 1000, "status": "won"}},
    }
    webhooks.handle_dispute_closed(closed)
    webhooks.handle_dispute_closed(closed)
    assert ledger.balance("platform_cash", None, "usd") == 1000
    assert owed(cat.ana) == 440
    sweeps.payouts_sweep(run_inline=True)
    assert owed(cat.ana) == 0
    assert SettlementLine.objects.filter(party=cat.ana, transfers__seq=2).count() == 2
    assert ledger_verify() == []


def test_charge_refunded_event_uses_embedded_refunds(cat, fake_stripe):
    settle(cat, "o1", gross=1000)
    event = {
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_o1",
                "amount_refunded": 300,
                "refunds": {
                    "data": [
                        {"id": "re_a", "amount": 100, "status": "succeeded"},
                        {"id": "re_b", "amount": 200, "status": "pending"},
                    ]
                },
            }
        },
    }
    webhooks.handle_charge_refunded(event)
    webhooks.handle_charge_refunded(event)
    assert Refund.objects.count() == 2
    assert ledger.balance("platform_cash", None, "usd") == 700
    # re_b later fails: the money comes back to the lines.
    webhooks.handle_refund_event(
        {
            "type": "charge.refund.updated",
            "data": {
                "object": {"id": "re_b", "amount": 200, "status": "failed", "charge": "ch_o1"}
            },
        }
    )
    assert ledger.balance("platform_cash", None, "usd") == 900
    assert ledger_verify() == []


def test_refund_before_settlement_asks_for_redelivery(db):
    from core.errors import NotFound

    with pytest.raises(NotFound) as exc:
        refunds.refund_post(refund_id="re_x", amount_cents=5, charge_id="ch_unknown")
    assert exc.value.code == "settlement_missing"
