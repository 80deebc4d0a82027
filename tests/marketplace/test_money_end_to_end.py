"""Consent, credit, compensation end to end, through the real SDK and sandbox:
a fan pays for a remix, the split is settled against the versions the remix
recorded, an onboarded artist is paid by a Stripe transfer while a songwriter
who has not onboarded accrues, and a refund reverses it all to the cent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from catalog.services import consent_revoke
from marketplace.billing.fulfilment import order_fulfil, order_settle
from marketplace.billing.services.orders import order_checkout_start
from marketplace.billing.services.refunds import order_refund_full
from marketplace.models import Order
from royalties import ledger
from royalties.audit import ledger_verify, stripe_reconcile
from royalties.models import Reversal, Settlement, Transfer
from royalties.services.payees import payee_onboarding_link, payee_refresh
from royalties.services.reversals import reversal_execute
from royalties.services.sweeps import payouts_sweep
from royalties.stripe_client import stripe_client
from stripe_sandbox.testing import submit_onboarding
from tests.marketplace.billing.factories import entitle, make_remix

pytestmark = pytest.mark.django_db

URLS = {
    "success_url": "http://testserver/billing/orders/return/?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://testserver/billing/",
}


def paid_order(fan, stripe_events) -> Order:
    remix = make_remix(owner=fan)
    order = order_checkout_start(fan=fan, remix=remix, **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def onboard(party, user) -> None:
    link = payee_onboarding_link(
        party=party,
        user=user,
        return_url="http://testserver/payouts/",
        refresh_url="http://testserver/payouts/",
    )
    assert submit_onboarding(link, "complete").status < 400
    assert payee_refresh(party=party).can_receive


def test_paid_remix_pays_artists_and_a_refund_reverses_it_to_the_cent(
    fan, client, stripe_plans, stripe_events
):
    entitle(fan)
    stripe_events.skip()
    order = paid_order(fan, stripe_events)
    remix = order.remix
    artist = remix.master_split_version.shares.get().party
    songwriter = remix.publishing_split_version.shares.get().party
    onboard(artist, artist.user)

    order_settle(order=order)
    order_settle(order=order)  # a redelivered task settles nothing twice
    settlement = Settlement.objects.get(order_ref=f"order_{order.pk}")
    lines = {line.kind: line for line in settlement.lines.all()}
    assert settlement.gross_cents == order.amount_cents == 299
    assert sum(line.amount_cents for line in settlement.lines.all()) == 299
    assert settlement.charge_id == order.stripe_charge_id

    payouts_sweep(run_inline=True)
    transfer = Transfer.objects.get(status="succeeded")
    assert transfer.amount_cents == lines["master"].amount_cents
    at_stripe = stripe_client().v1.transfers.retrieve(transfer.stripe_transfer_id)
    assert at_stripe.amount == transfer.amount_cents
    assert at_stripe.transfer_group == order.transfer_group == f"remix_{remix.pk}"
    assert at_stripe.source_transaction == order.stripe_charge_id
    # The songwriter has not onboarded: their share waits for them.
    assert -ledger.balance("payable", songwriter.pk, "usd") == lines["publishing"].amount_cents
    assert ledger_verify() == [] and stripe_reconcile() == []

    client.force_login(artist.user)
    page = client.get(f"/payouts/party/{artist.pk}/").content.decode()
    assert remix.recording.title in page
    # The artist holds the whole master side, paid out in full by the sweep.
    cents = lines["master"].amount_cents
    amount = f"{cents // 100}.{cents % 100:02d} USD"
    for label, shown in (("Earned", amount), ("Paid out", amount), ("Owed", "0.00 USD")):
        assert f"<div><dt>{label}</dt><dd>{shown}</dd></div>" in page

    order_refund_full(order=order, reason="Fan asked for a refund.")
    stripe_events.deliver()
    for reversal in Reversal.objects.all():
        reversal_execute(reversal_id=reversal.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert ledger.balance("paid_out", artist.pk, "usd") == 0
    assert ledger.balance("payable", songwriter.pk, "usd") == 0
    assert ledger.balance("payable", artist.pk, "usd") == 0
    reversed_at_stripe = stripe_client().v1.transfers.retrieve(transfer.stripe_transfer_id)
    assert reversed_at_stripe.amount_reversed == transfer.amount_cents
    assert ledger_verify() == [] and stripe_reconcile() == []
    call_command("verify_ledger")
    call_command("reconcile_stripe")


def test_consent_revoked_before_payment_refunds_the_fan_and_settles_nothing(
    fan, stripe_plans, stripe_events
):
    entitle(fan)
    stripe_events.skip()
    remix = make_remix(owner=fan)
    order = order_checkout_start(fan=fan, remix=remix, **URLS)
    artist = remix.master_split_version.shares.get().party
    consent_revoke(party=artist, actor=artist.user, reason="Changed my mind")
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()

    outcome = order_fulfil(order_id=order.pk)
    assert outcome.outcome == "refunded"
    stripe_events.deliver()  # charge.refunded: nothing in the ledger to reverse
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert "can no longer be made" in order.refund_reason
    assert "revoked consent" in order.refund_reason
    assert not Settlement.objects.exists()
    assert ledger_verify() == []
