"""Real delivery: the sandbox's own worker POSTs signed events to the live server."""

from __future__ import annotations

import time

from marketplace.billing.entitlements import fan_entitlement
from marketplace.billing.services.plans import plan_catalog_sync
from marketplace.billing.services.subscription_checkout import subscription_checkout_start
from marketplace.models import Subscription, WebhookEvent
from tests.fixtures.accounts import UserFactory


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_subscription_activated_by_delivered_webhooks(flushable_db, stripe_live, live_server):
    plan_catalog_sync()
    fan = UserFactory()
    attempt = subscription_checkout_start(
        user=fan,
        plan_code="premium",
        success_url=f"{live_server.url}/billing/checkout/success/?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{live_server.url}/pricing/",
    )
    stripe_live.pay(attempt.checkout_url)
    assert wait_for(lambda: Subscription.objects.filter(user=fan, status="active").exists())
    assert stripe_live.wait_idle()
    assert fan_entitlement(user=fan).premium_active
    assert WebhookEvent.objects.filter(
        type="checkout.session.completed", status="processed"
    ).exists()
    assert not WebhookEvent.objects.filter(status="failed").exists()
