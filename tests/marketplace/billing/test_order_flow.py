"""Paid remix exports end to end through the real SDK and the sandbox."""

from __future__ import annotations

import pytest
from django.db import models

from core.errors import Conflict
from marketplace.billing import signals
from marketplace.billing.services.orders import order_checkout_start
from marketplace.billing.services.refunds import order_refund_full
from marketplace.billing.stripe_client import stripe_client
from tests.fixtures.stripe import CARD_DECLINED

from .factories import entitle, make_remix

URLS = {
    "success_url": "http://testserver/billing/orders/return/?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://testserver/billing/",
}


@pytest.fixture
def paid_events():
    received: list[int] = []

    def receiver(sender, order_id, **kwargs):
        received.append(order_id)

    signals.order_paid.connect(receiver)
    yield received
    signals.order_paid.disconnect(receiver)


@pytest.fixture
def entitled_fan(fan):
    entitle(fan)
    return fan


def test_purchase_end_to_end(
    entitled_fan, stripe_plans, stripe_events, paid_events, django_capture_on_commit_callbacks
):
    remix = make_remix(owner=entitled_fan)
    order = order_checkout_start(fan=entitled_fan, remix=remix, **URLS)
    assert order.status == "pending" and order.amount_cents == 299 and order.currency == "usd"
    assert order.idempotency_key.startswith(f"clearmix-order-checkout-{order.pk}-")
    session = stripe_client().v1.checkout.sessions.retrieve(order.stripe_checkout_session_id)
    assert session.mode == "payment" and session.amount_total == 299
    assert session.metadata["clearmix_order_id"] == str(order.pk)
    assert session.metadata["clearmix_remix_id"] == str(remix.pk)

    # Starting again reuses the order and (idempotently) the same session.
    again = order_checkout_start(fan=entitled_fan, remix=remix, **URLS)
    assert (
        again.pk == order.pk
        and again.stripe_checkout_session_id == order.stripe_checkout_session_id
    )

    redirect = stripe_events.sandbox.pay(order.checkout_url)
    assert order.stripe_checkout_session_id in redirect
    order.refresh_from_db()
    assert order.status == "pending" and paid_events == []  # the redirect is not proof

    with django_capture_on_commit_callbacks(execute=True):
        stripe_events.deliver()
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    assert order.stripe_payment_intent_id.startswith("pi_")
    assert order.stripe_charge_id.startswith("ch_")
    assert paid_events == [order.pk]
    intent = stripe_client().v1.payment_intents.retrieve(order.stripe_payment_intent_id)
    assert intent.transfer_group == f"remix_{remix.pk}"
    assert intent.metadata["clearmix_order_id"] == str(order.pk)

    # Duplicates of every event: still paid once, one signal.
    for event in stripe_events.sandbox.list_events():
        if event["id"] in stripe_events.seen:
            with django_capture_on_commit_callbacks(execute=True):
                stripe_events.post(event)
    assert paid_events == [order.pk]

    with pytest.raises(Conflict):
        order_checkout_start(fan=entitled_fan, remix=remix, **URLS)


def test_declined_card_leaves_order_pending(entitled_fan, stripe_plans, stripe_events, paid_events):
    order = order_checkout_start(fan=entitled_fan, remix=make_remix(owner=entitled_fan), **URLS)
    assert stripe_events.sandbox.pay(order.checkout_url, card=CARD_DECLINED) == ""
    stripe_events.deliver()
    order.refresh_from_db()
    assert order.status == "pending" and order.paid_at is None and paid_events == []


def test_full_refund_is_idempotent_and_tells_the_fan(
    client, entitled_fan, stripe_plans, stripe_events, django_capture_on_commit_callbacks
):
    refunds_seen: list[tuple[int, int, str]] = []

    def on_refund(sender, order_id, refunded_cents, reason, **kwargs):
        refunds_seen.append((order_id, refunded_cents, reason))

    signals.order_refunded.connect(on_refund)
    try:
        order = order_checkout_start(fan=entitled_fan, remix=make_remix(owner=entitled_fan), **URLS)
        stripe_events.sandbox.pay(order.checkout_url)
        stripe_events.deliver()
        order.refresh_from_db()
        reason = "The artist withdrew consent before your remix was exported."
        with django_capture_on_commit_callbacks(execute=True):
            first = order_refund_full(order=order, reason=reason)
            second = order_refund_full(order=order, reason="another reason")
        assert first.status == second.status == "refunded"
        assert first.refund_idempotency_key.startswith(f"clearmix-order-refund-full-{order.pk}-")
        refunds = stripe_client().v1.refunds.list(params={"charge": order.stripe_charge_id})
        assert len(refunds.data) == 1 and refunds.data[0].amount == 299

        with django_capture_on_commit_callbacks(execute=True):
            stripe_events.deliver()  # charge.refunded: no change, already refunded
        order.refresh_from_db()
        assert order.status == "refunded" and order.refunded_cents == 299
        assert order.refund_reason == reason
        assert refunds_seen == [(order.pk, 299, reason)]
        client.force_login(entitled_fan)
        assert reason in client.get(f"/billing/orders/{order.pk}/").content.decode()
    finally:
        signals.order_refunded.disconnect(on_refund)


def test_out_of_order_refund_before_payment_event(entitled_fan, stripe_plans, stripe_events):
    order = order_checkout_start(fan=entitled_fan, remix=make_remix(owner=entitled_fan), **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    held = stripe_events.new()
    stripe_events.seen.update(e["id"] for e in held)
    completed = [e for e in held if e["type"] == "checkout.session.completed"]
    # Refund from "the Dashboard" while our webhook is still in the air.
    intent = (
        stripe_client()
        .v1.checkout.sessions.retrieve(order.stripe_checkout_session_id)
        .payment_intent
    )
    stripe_client().v1.refunds.create(params={"payment_intent": intent, "amount": 100})
    refund_events = stripe_events.new()
    first = {e["type"]: stripe_events.post(e).status_code for e in refund_events}
    # The refund of a charge we have not seen paid yet cannot reach the
    # ledger: 5xx, so Stripe delivers it again later. Nothing was stored.
    assert first["charge.refunded"] == 500
    for event in completed:
        stripe_events.post(event)
    order.refresh_from_db()
    # Paying re-reads the charge, so the refund that overtook it is not lost.
    assert order.status == "partially_refunded" and order.refunded_cents == 100
    assert order.amount_cents == 299  # money as charged never changes
    # Stripe's retry now lands: the order is settled, then the refund reversed.
    again = [e for e in refund_events if e["type"] == "charge.refunded"]
    assert all(stripe_events.post(e).status_code == 200 for e in again)
    from royalties.models import Settlement

    settlement = Settlement.objects.get(order_ref=f"order_{order.pk}")
    assert settlement.gross_cents == 299
    assert settlement.refunds.aggregate(total=models.Sum("amount_cents"))["total"] == 100


def test_dispute_opened_and_won(entitled_fan, stripe_plans, stripe_events):
    order = order_checkout_start(fan=entitled_fan, remix=make_remix(owner=entitled_fan), **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()
    order.refresh_from_db()
    dispute = stripe_events.sandbox.open_dispute(order.stripe_charge_id)
    stripe_events.deliver()
    order.refresh_from_db()
    assert order.status == "disputed" and order.stripe_dispute_id == dispute["id"]
    stripe_events.sandbox.close_dispute(dispute["id"], "won")
    stripe_events.deliver()
    order.refresh_from_db()
    assert order.status == "paid" and order.dispute_status == "won"


def test_names_not_numbers_on_checkout_and_billing(client, entitled_fan, stripe_plans):
    # Found: checkout said "Remix export #1" and billing showed "#4 #5".
    remix = make_remix(owner=entitled_fan)
    remix.title = "Night Swim Edit"
    remix.save(update_fields=["title"])
    order = order_checkout_start(fan=entitled_fan, remix=remix, **URLS)
    session = stripe_client().v1.checkout.sessions.retrieve(
        order.stripe_checkout_session_id, params={"expand": ["line_items"]}
    )
    name = session.line_items.data[0].description
    assert name == f"Remix “Night Swim Edit” of {remix.recording.title}"
    client.force_login(entitled_fan)
    page = client.get("/billing/").content.decode()
    assert "Night Swim Edit" in page and f"of {remix.recording.title}" in page
    assert f"<td>#{remix.pk}</td>" not in page


def test_a_lost_dispute_whose_events_arrive_backwards_ends_lost(
    entitled_fan, stripe_plans, stripe_events
):
    # Found by the webhook storm: `closed` (lost) handled before `created`
    # found nothing to close, then `created` opened the dispute for good and
    # put its stale "needs_response" over the order's "lost".
    from marketplace.billing.fulfilment import order_fulfil
    from royalties.models import Refund

    order = order_checkout_start(fan=entitled_fan, remix=make_remix(owner=entitled_fan), **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()
    dispute = stripe_events.sandbox.open_dispute(
        stripe_client()
        .v1.checkout.sessions.retrieve(
            order.stripe_checkout_session_id, params={"expand": ["payment_intent"]}
        )
        .payment_intent.latest_charge
    )
    stripe_events.sandbox.close_dispute(dispute["id"], "lost")
    stripe_events.deliver(reverse_order=True)  # closed first, then created
    order.refresh_from_db()
    assert (order.status, order.dispute_status) == ("disputed", "lost")
    refund = Refund.objects.get(external_id=dispute["id"])
    assert (refund.kind, refund.amount_cents, refund.status) == ("dispute", 299, "lost")
    # A dispute does not undo the purchase: the remix is still made.
    assert order_fulfil(order_id=order.pk).outcome == "rendering"
