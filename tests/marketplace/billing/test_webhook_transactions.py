"""No Stripe call inside a transaction while a webhook is processed.

A network call made while the event row (and the order or subscription rows)
are locked holds those locks for as long as Stripe takes to answer, and a
slow or failing Stripe would then hold up every other writer. The pipeline
fetches first, then applies in one short transaction.

Every request the stripe SDK sends goes through `HTTPClient.request_with_retries`;
the recorder notes, for each, whether the database connection was inside an
atomic block opened by the code under test (the test's own wrapping
transaction is the baseline).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import stripe
from django.db import connection

from marketplace.billing.services.orders import order_checkout_start
from marketplace.billing.services.refunds import order_refund_full
from marketplace.models import Order, Subscription, WebhookEvent

from .factories import make_remix
from .test_subscription_flow import subscribe

URLS = {
    "success_url": "http://testserver/billing/orders/return/?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://testserver/billing/",
}


@dataclass
class StripeCallRecorder:
    baseline: int
    calls: list[tuple[str, str, bool]] = field(default_factory=list)

    def inside_atomic(self) -> list[tuple[str, str]]:
        return [(method, url) for method, url, inside in self.calls if inside]


@pytest.fixture
def stripe_calls(monkeypatch) -> StripeCallRecorder:
    recorder = StripeCallRecorder(baseline=len(connection.atomic_blocks))
    real = stripe.HTTPClient.request_with_retries

    def recording(self, method, url, *args, **kwargs):
        inside = len(connection.atomic_blocks) > recorder.baseline
        recorder.calls.append((method, url.split("?")[0], inside))
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(stripe.HTTPClient, "request_with_retries", recording)
    return recorder


def test_no_stripe_call_inside_a_transaction_while_handling_webhooks(
    client, fan, stripe_plans, stripe_events, stripe_calls
):
    client.force_login(fan)
    subscribe(client, stripe_events, "premium")
    stripe_events.deliver()
    subscribe(client, stripe_events, "remix_addon")
    stripe_events.deliver()
    assert Subscription.objects.filter(user=fan, status="active").count() == 2

    paid = order_checkout_start(fan=fan, remix=make_remix(owner=fan), **URLS)
    stripe_events.sandbox.pay(paid.checkout_url)
    refunded = order_checkout_start(fan=fan, remix=make_remix(owner=fan), **URLS)
    stripe_events.sandbox.pay(refunded.checkout_url)
    stripe_events.deliver()
    paid.refresh_from_db()
    refunded.refresh_from_db()
    assert paid.status == refunded.status == Order.Status.PAID

    order_refund_full(order=refunded, reason="Support")
    dispute = stripe_events.sandbox.open_dispute(paid.stripe_charge_id)
    stripe_events.sandbox.close_dispute(dispute["id"], "won")
    stripe_events.deliver()
    paid.refresh_from_db()
    refunded.refresh_from_db()
    assert (paid.status, paid.dispute_status) == (Order.Status.PAID, "won")
    assert refunded.status == Order.Status.REFUNDED

    handled = set(
        WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).values_list(
            "type", flat=True
        )
    )
    # Every kind of handler that reads Stripe ran at least once.
    assert {
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.closed",
    } <= handled
    assert stripe_calls.calls, "the recorder saw no Stripe request at all"
    assert stripe_calls.inside_atomic() == []
