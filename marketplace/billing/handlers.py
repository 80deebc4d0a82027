"""Marketplace's own webhook handlers: subscriptions and remix orders.

Subscriptions are re-fetched from Stripe on every related event, so whatever
order events arrive in, our copy converges on Stripe's current state. Orders
only move forward (pending → paid → refunded/disputed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import stripe

from . import services
from .stripe_client import object_id, sget
from .webhooks import handles


def _event_time(event: stripe.Event) -> datetime:
    return datetime.fromtimestamp(int(sget(event, "created", default=0)), tz=UTC)


@handles("checkout.session.completed", "checkout.session.async_payment_succeeded")
def checkout_session_completed(event: stripe.Event) -> None:
    session = sget(event, "data", "object")
    mode = sget(session, "mode")
    if mode == "subscription":
        services.subscription_checkout_link(session=session)
        subscription_id = object_id(sget(session, "subscription"))
        if subscription_id:
            services.subscription_refresh(stripe_subscription_id=subscription_id)
    elif mode == "payment":
        services.order_mark_paid(session=session)


@handles("checkout.session.expired")
def checkout_session_expired(event: stripe.Event) -> None:
    session = sget(event, "data", "object")
    if sget(session, "mode") == "subscription":
        services.subscription_checkout_expire(session=session)
    else:
        services.order_checkout_expire(session=session)


@handles(
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
)
def customer_subscription_changed(event: stripe.Event) -> None:
    services.subscription_refresh(stripe_subscription_id=object_id(sget(event, "data", "object")))


@handles("invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed")
def invoice_changed(event: stripe.Event) -> None:
    invoice = sget(event, "data", "object")
    subscription_id = object_id(sget(invoice, "subscription")) or object_id(
        sget(invoice, "parent", "subscription_details", "subscription")
    )
    if subscription_id:
        services.subscription_refresh(stripe_subscription_id=subscription_id)


@handles("charge.refunded")
def charge_refunded(event: stripe.Event) -> None:
    services.order_charge_refunded(charge=sget(event, "data", "object"))


@handles("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")
def charge_dispute_changed(event: stripe.Event) -> None:
    services.order_dispute_update(
        dispute=sget(event, "data", "object"), state_at=_event_time(event)
    )
