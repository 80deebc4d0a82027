"""Subscriptions end to end: real SDK → sandbox → hosted page → webhooks (in-process)."""

from __future__ import annotations

from marketplace.billing.entitlements import fan_entitlement
from marketplace.billing.services.plans import plan_catalog_sync
from marketplace.billing.stripe_client import stripe_client
from marketplace.models import (
    BillingCustomer,
    Plan,
    Subscription,
    SubscriptionCheckout,
    WebhookEvent,
)
from tests.fixtures.stripe import CARD_DECLINED


def subscribe(
    client, stripe_events, plan_code: str, *, card: str | None = None
) -> SubscriptionCheckout:
    response = client.post(f"/billing/subscribe/{plan_code}/")
    assert response.status_code == 302, response.content
    assert response.url.startswith(stripe_events.sandbox.url)
    attempt = SubscriptionCheckout.objects.filter(plan__code=plan_code).latest("created_at")
    kwargs = {"card": card} if card else {}
    stripe_events.sandbox.pay(response.url, **kwargs)
    return attempt


def poll(client, attempt) -> dict:
    return client.get(
        f"/billing/checkout/status/?session_id={attempt.stripe_checkout_session_id}"
    ).json()


def test_catalog_sync_is_idempotent(stripe_sandbox, db):
    first = {plan.code: plan.stripe_price_id for plan in plan_catalog_sync()}
    second = {plan.code: plan.stripe_price_id for plan in plan_catalog_sync()}
    assert first == second and all(first.values())
    premium = Plan.objects.get(code=Plan.Code.PREMIUM)
    found = stripe_client().v1.prices.list(params={"lookup_keys": [premium.lookup_key]})
    assert [price.id for price in found.data] == [premium.stripe_price_id]
    assert found.data[0].unit_amount == 999 and found.data[0].recurring.interval == "month"
    assert premium.requires is None
    assert Plan.objects.get(code=Plan.Code.REMIX_ADDON).requires == premium


def test_premium_then_addon_end_to_end(client, fan, stripe_plans, stripe_events):
    client.force_login(fan)
    attempt = subscribe(client, stripe_events, "premium")
    attempt.refresh_from_db()
    assert attempt.idempotency_key.startswith(f"clearmix-subscription-checkout-{attempt.pk}-")

    # Paid, but no webhook yet: the redirect alone grants nothing...
    assert poll(client, attempt)["state"] == "confirming"
    assert not fan_entitlement(user=fan).premium_active
    # ...but the success page asks Stripe, whose answer does (a lost webhook
    # must not leave a paying fan without their subscription).
    page = client.get(f"/billing/checkout/success/?session_id={attempt.stripe_checkout_session_id}")
    assert b'data-state="active"' in page.content
    assert poll(client, attempt)["state"] == "active"
    assert fan_entitlement(user=fan).premium_active

    stripe_events.deliver()  # the late webhooks change nothing
    assert poll(client, attempt)["state"] == "active"
    premium = Subscription.objects.get(user=fan, plan__code="premium")
    assert premium.status == "active" and premium.current_period_end is not None
    entitlement = fan_entitlement(user=fan)
    assert entitlement.premium_active and not entitlement.can_remix

    subscribe(client, stripe_events, "remix_addon")
    stripe_events.deliver()
    assert fan_entitlement(user=fan).can_remix

    # One Stripe Customer for both checkouts, created with a key from our id.
    customer = BillingCustomer.objects.get(user=fan)
    assert customer.idempotency_key.startswith(f"clearmix-customer-user-{fan.pk}-")
    subs = stripe_client().v1.subscriptions.list(params={"customer": customer.stripe_customer_id})
    assert {s.customer for s in subs.data} == {customer.stripe_customer_id} and len(subs.data) == 2


def test_declined_card_grants_nothing(client, fan, stripe_plans, stripe_events):
    client.force_login(fan)
    attempt = subscribe(client, stripe_events, "premium", card=CARD_DECLINED)
    stripe_events.deliver()
    assert poll(client, attempt)["state"] == "confirming"
    assert not Subscription.objects.filter(user=fan).exists()
    assert not fan_entitlement(user=fan).premium_active


def test_duplicates_change_nothing(client, fan, stripe_plans, stripe_events):
    client.force_login(fan)
    subscribe(client, stripe_events, "premium")
    events = stripe_events.new()
    for event in events:
        stripe_events.post(event)
    before = list(Subscription.objects.values_list("status", "stripe_state_at"))
    for event in events * 2:
        response = stripe_events.post(event)
        assert response.status_code == 200 and response.json()["duplicate"] is True
    assert list(Subscription.objects.values_list("status", "stripe_state_at")) == before
    assert WebhookEvent.objects.filter(
        stripe_event_id__in=[e["id"] for e in events]
    ).count() == len(events)


def test_out_of_order_delivery_converges(client, fan, stripe_plans, stripe_events):
    client.force_login(fan)
    subscribe(client, stripe_events, "premium")
    stripe_events.deliver(reverse_order=True)  # completed/updated before created
    assert Subscription.objects.get(user=fan).status == "active"


def test_late_events_do_not_revive_a_canceled_subscription(
    client, fan, stripe_plans, stripe_events
):
    client.force_login(fan)
    subscribe(client, stripe_events, "premium")
    sub_id = stripe_client().v1.checkout.sessions.list(params={"limit": 1}).data[0].subscription
    stripe_client().v1.subscriptions.cancel(sub_id)
    # The deletion arrives first, the signup events late.
    stripe_events.deliver(reverse_order=True)
    subscription = Subscription.objects.get(stripe_subscription_id=sub_id)
    assert subscription.status == "canceled"
    assert not fan_entitlement(user=fan).premium_active


def test_cancel_at_period_end_toggles_through_stripe(client, fan, stripe_plans, stripe_events):
    client.force_login(fan)
    subscribe(client, stripe_events, "premium")
    stripe_events.deliver()
    subscription = Subscription.objects.get(user=fan)
    url = f"/billing/subscriptions/{subscription.pk}/cancel/"

    for n, cancel in enumerate([True, False, True], start=1):
        response = client.post(url, {"cancel_at_period_end": "1" if cancel else "0"})
        assert response.status_code == 302
        subscription.refresh_from_db()
        remote = stripe_client().v1.subscriptions.retrieve(subscription.stripe_subscription_id)
        # A fresh key per change: re-enabling must not replay the first answer.
        key = subscription.last_idempotency_key
        assert key.startswith(f"clearmix-subscription-update-{subscription.pk}-{n}-")
        assert remote.cancel_at_period_end is cancel
        assert subscription.cancel_at_period_end is cancel
        stripe_events.deliver()
        subscription.refresh_from_db()
        assert subscription.cancel_at_period_end is cancel
    assert subscription.status == "active"  # still entitled until the period ends
    assert "Ends on" in client.get("/billing/").content.decode()


def test_addon_cannot_be_bought_before_premium(client, fan, stripe_plans, stripe_events):
    client.force_login(fan)
    response = client.post("/billing/subscribe/remix_addon/", follow=True)
    assert b"requires an active Premium subscription" in response.content
    assert not SubscriptionCheckout.objects.exists()


def test_failed_renewal_makes_premium_past_due(client, fan, stripe_plans, stripe_events):
    client.force_login(fan)
    subscribe(client, stripe_events, "premium")
    stripe_events.deliver()
    customer = BillingCustomer.objects.get(user=fan)
    stripe_events.sandbox.fail_renewals(customer.stripe_customer_id)
    stripe_events.sandbox.advance_clock(days=32)
    stripe_events.deliver()
    subscription = Subscription.objects.get(user=fan)
    assert subscription.status == "past_due"
    entitlement = fan_entitlement(user=fan)
    assert not entitlement.premium_active
    assert entitlement.missing[0]["code"] == "premium_past_due"


def test_cancel_at_period_end_ends_access_at_period_end(client, fan, stripe_plans, stripe_events):
    client.force_login(fan)
    subscribe(client, stripe_events, "premium")
    stripe_events.deliver()
    subscription = Subscription.objects.get(user=fan)
    client.post(f"/billing/subscriptions/{subscription.pk}/cancel/", {"cancel_at_period_end": "1"})
    stripe_events.deliver()
    assert fan_entitlement(user=fan).premium_active  # paid until the period ends
    stripe_events.sandbox.advance_clock(days=32)
    stripe_events.deliver()
    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    assert not fan_entitlement(user=fan).premium_active
