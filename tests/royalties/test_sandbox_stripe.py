"""Connect onboarding, transfers, reversals and reconciliation through the real
stripe SDK against the local sandbox (stripe_sandbox)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from royalties import enqueue, ledger
from royalties.audit import ledger_verify, stripe_reconcile
from royalties.models import Payee, Reversal, Transfer
from royalties.services import payees, refunds, reversals, sweeps
from royalties.stripe_client import stripe_client

from .conftest import settle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda *a: None)


def _testing():
    from stripe_sandbox import testing

    return testing


def paid_charge(amount: int) -> str:
    """A real succeeded charge in the sandbox, paid through hosted Checkout."""
    client = stripe_client()
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": amount,
                        "product_data": {"name": "Remix"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "http://127.0.0.1/ok",
            "cancel_url": "http://127.0.0.1/cancel",
        },
        options={"idempotency_key": f"test-checkout-{amount}-{id(client)}"},
    )
    result = _testing().submit_checkout(session.url, email="fan@example.com")
    assert result.status < 400, result.text
    session = client.v1.checkout.sessions.retrieve(session.id)
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    return (
        intent.latest_charge if isinstance(intent.latest_charge, str) else intent.latest_charge.id
    )


def onboard_via_stripe(party, user) -> Payee:
    url = payees.payee_onboarding_link(
        party=party,
        user=user,
        return_url="http://127.0.0.1/ret",
        refresh_url="http://127.0.0.1/refresh",
    )
    assert url.startswith("http")
    result = _testing().submit_onboarding(url)
    assert result.status < 400, result.text
    payee = payees.payee_refresh(party=party)
    assert payee.can_receive, (payee.charges_enabled, payee.payouts_enabled, payee.transfers_active)
    return payee


def test_onboard_transfer_refund_reverse_reconcile(cat, sandbox):
    payee = onboard_via_stripe(cat.ana, cat.users["ana"])
    assert payee.stripe_account_id.startswith("acct_")
    charge = paid_charge(1000)
    settle(cat, "sb1", gross=1000, charge_id=charge)
    sweeps.payouts_sweep(run_inline=True)
    trs = list(Transfer.objects.filter(status="succeeded"))
    assert sorted(t.amount_cents for t in trs) == [200, 240]
    st = stripe_client().v1.transfers.retrieve(trs[0].stripe_transfer_id)
    assert st.destination == payee.stripe_account_id
    assert st.source_transaction == charge and st.transfer_group == "order_sb1"
    assert stripe_reconcile() == []

    # Refund half: the ledger reverses ana's transfers pro rata.
    refunds.refund_post(refund_id="re_test_1", amount_cents=500, order_ref="sb1")
    for rev in Reversal.objects.all():
        reversals.reversal_execute(reversal_id=rev.pk)
    assert set(Reversal.objects.values_list("status", flat=True)) == {"succeeded"}
    assert ledger.balance("paid_out", cat.ana.pk, "usd") == -220
    assert ledger_verify() == []
    assert stripe_reconcile() == []
    call_command("reconcile_stripe")


def test_reversal_without_connected_balance_becomes_receivable(cat, sandbox):
    payee = onboard_via_stripe(cat.ana, cat.users["ana"])
    charge = paid_charge(1000)
    settle(cat, "sb2", gross=1000, charge_id=charge)
    sweeps.payouts_sweep(run_inline=True)
    _testing().hook(
        sandbox.url.rstrip("/"),
        f"accounts/{payee.stripe_account_id}/balance",
        {"amount": 0, "currency": "usd"},
    )
    refunds.refund_post(refund_id="re_test_2", amount_cents=1000, order_ref="sb2")
    for rev in Reversal.objects.all():
        reversals.reversal_execute(reversal_id=rev.pk)
    assert set(Reversal.objects.values_list("status", flat=True)) == {"receivable"}
    assert ledger.balance("receivable", cat.ana.pk, "usd") == 440
    assert ledger_verify() == []
    assert stripe_reconcile() == []


def test_not_onboarded_party_accrues(cat, sandbox):
    charge = paid_charge(500)
    settle(cat, "sb3", gross=500, charge_id=charge)
    sweeps.payouts_sweep(run_inline=True)
    assert not Transfer.objects.exists()
    assert -ledger.balance("payable", cat.bo.pk, "usd") == 80


def test_dispute_from_the_sandbox_reverses_then_reinstates(cat, sandbox):
    from royalties import webhooks

    onboard_via_stripe(cat.ana, cat.users["ana"])
    charge = paid_charge(1000)
    settle(cat, "sb4", gross=1000, charge_id=charge)
    sweeps.payouts_sweep(run_inline=True)
    base = sandbox.url.rstrip("/")
    dispute = _testing().hook(base, f"charges/{charge}/dispute", {"reason": "fraudulent"})
    dispute_id = dispute.get("id") or dispute.get("dispute", {}).get("id")
    obj = stripe_client().v1.disputes.retrieve(dispute_id)
    webhooks.handle_dispute_created({"type": "charge.dispute.created", "data": {"object": obj}})
    for rev in Reversal.objects.all():
        reversals.reversal_execute(reversal_id=rev.pk)
    assert ledger.balance("platform_cash", None, "usd") == 0
    _testing().hook(base, f"disputes/{dispute_id}/close", {"outcome": "won"})
    obj = stripe_client().v1.disputes.retrieve(dispute_id)
    assert obj.status == "won"
    webhooks.handle_dispute_closed({"type": "charge.dispute.closed", "data": {"object": obj}})
    assert ledger.balance("platform_cash", None, "usd") == 1000
    sweeps.payouts_sweep(run_inline=True)
    assert -ledger.balance("payable", cat.ana.pk, "usd") == 0
    assert ledger_verify() == []
    assert stripe_reconcile() == []


def test_connect_buttons_onboard_through_the_sandbox(client, cat, sandbox):
    from django.urls import reverse

    client.force_login(cat.users["bo"])
    resp = client.post(reverse("royalties:connect", args=[cat.bo.pk]))
    assert resp.status_code == 302 and resp["Location"].startswith(sandbox.url.rstrip("/"))
    assert _testing().submit_onboarding(resp["Location"]).status < 400
    resp = client.get(reverse("royalties:connect-return", args=[cat.bo.pk]))
    assert resp.status_code == 302
    assert Payee.objects.get(party=cat.bo).can_receive
    page = client.get(reverse("royalties:party", args=[cat.bo.pk]))
    assert b"Payouts active" in page.content
