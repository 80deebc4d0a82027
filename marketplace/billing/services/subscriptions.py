"""Our copy of each Stripe subscription, and the fan's own changes to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict
from marketplace.billing import signals
from marketplace.billing.stripe_client import (
    idempotency_key,
    idempotent,
    object_id,
    payment_provider_error,
    sget,
    stripe_client,
    stripe_time,
)
from marketplace.models import BillingCustomer, Plan, Subscription, SubscriptionCheckout

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchedSubscription:
    """A subscription as Stripe answered, and when we asked (orders states)."""

    subscription: Any
    fetched_at: datetime


def subscription_fetch(*, stripe_subscription_id: str) -> FetchedSubscription:
    """Ask Stripe for a subscription's current state (outside any transaction)."""
    fetched_at = timezone.now()
    subscription = stripe_client().v1.subscriptions.retrieve(stripe_subscription_id)
    return FetchedSubscription(subscription=subscription, fetched_at=fetched_at)


def _plan_for_stripe_subscription(sub: Any) -> Plan | None:
    for item in sget(sub, "items", "data", default=[]):
        price_id = object_id(sget(item, "price"))
        plan = Plan.objects.filter(stripe_price_id=price_id).first()
        if plan is None:
            lookup_key = sget(item, "price", "lookup_key")
            plan = Plan.objects.filter(lookup_key=lookup_key).first() if lookup_key else None
        if plan is not None:
            return plan
    code = sget(sub, "metadata", "clearmix_plan")
    return Plan.objects.filter(code=code).first() if code else None


def _user_for_stripe_subscription(sub: Any) -> Any:
    # Only through the Customer we created: metadata user ids are not trusted
    # because ids repeat across databases (a reset DB against the same Stripe
    # account would otherwise adopt someone else's subscription).
    customer_id = object_id(sget(sub, "customer"))
    customer = (
        BillingCustomer.objects.select_related("user")
        .filter(stripe_customer_id=customer_id)
        .first()
    )
    return customer.user if customer is not None else None


def _period_end(sub: Any) -> datetime | None:
    # Newer API versions moved current_period_end onto the subscription items.
    top = sget(sub, "current_period_end")
    if top:
        return stripe_time(top)
    ends = [sget(item, "current_period_end") for item in sget(sub, "items", "data", default=[])]
    ends = [end for end in ends if end]
    return stripe_time(min(ends)) if ends else None


def _subscription_new(stripe_subscription: Any) -> Subscription | None:
    user = _user_for_stripe_subscription(stripe_subscription)
    plan = _plan_for_stripe_subscription(stripe_subscription)
    if user is None or plan is None:
        logger.warning(
            "Subscription %s matches no user or plan of ours; skipped.",
            object_id(stripe_subscription),
        )
        return None
    return Subscription(
        user=user,
        plan=plan,
        stripe_subscription_id=object_id(stripe_subscription),
        stripe_customer_id=object_id(sget(stripe_subscription, "customer")),
    )


def _announce_change(subscription: Subscription, status: str) -> None:
    payload = {
        "subscription_id": subscription.pk,
        "user_id": subscription.user_id,
        "plan_code": subscription.plan.code,
        "status": status,
    }
    transaction.on_commit(
        lambda: signals.subscription_changed.send_robust(sender=Subscription, **payload)
    )


@transaction.atomic
def subscription_sync_from_stripe(
    *, stripe_subscription: Any, state_at: datetime
) -> Subscription | None:
    """Make our copy match a Subscription object Stripe gave us.

    Callers pass a freshly retrieved object (webhooks re-fetch), so applying it
    is always moving forward; `state_at` still guards against an older API
    answer overtaking a newer one, and a terminal status is never left.
    """
    sub_id = object_id(stripe_subscription)
    existing = (
        Subscription.objects.select_for_update().filter(stripe_subscription_id=sub_id).first()
    )
    status = str(sget(stripe_subscription, "status"))
    if existing is not None:
        if existing.stripe_state_at and state_at < existing.stripe_state_at:
            return existing
        if existing.status in Subscription.TERMINAL and status not in Subscription.TERMINAL:
            return existing
    subscription = existing or _subscription_new(stripe_subscription)
    if subscription is None:
        return None
    previous_status = existing.status if existing else None
    subscription.status = status
    subscription.cancel_at_period_end = bool(
        sget(stripe_subscription, "cancel_at_period_end", default=False)
    )
    subscription.current_period_end = _period_end(stripe_subscription)
    subscription.canceled_at = stripe_time(sget(stripe_subscription, "canceled_at"))
    subscription.stripe_state_at = state_at
    subscription.save()
    SubscriptionCheckout.objects.filter(
        stripe_subscription_id=sub_id, status=SubscriptionCheckout.Status.OPEN
    ).update(status=SubscriptionCheckout.Status.COMPLETE)
    if previous_status != status:
        _announce_change(subscription, status)
    return subscription


def subscription_apply_fetched(*, fetched: FetchedSubscription) -> Subscription | None:
    return subscription_sync_from_stripe(
        stripe_subscription=fetched.subscription, state_at=fetched.fetched_at
    )


def subscription_refresh(*, stripe_subscription_id: str) -> Subscription | None:
    """Re-fetch a subscription from Stripe and apply it (the out-of-order cure)."""
    fetched = subscription_fetch(stripe_subscription_id=stripe_subscription_id)
    return subscription_apply_fetched(fetched=fetched)


@transaction.atomic
def _change_key_reserve(subscription: Subscription) -> Subscription:
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    locked.change_seq = F("change_seq") + 1
    locked.save(update_fields=["change_seq"])
    locked.refresh_from_db(fields=["change_seq"])
    # A fresh key per change: toggling on, off, on must not replay the first answer.
    locked.last_idempotency_key = idempotency_key(
        "subscription-update", f"{locked.pk}-{locked.change_seq}"
    )
    locked.save(update_fields=["last_idempotency_key"])
    return locked


def subscription_cancel_at_period_end_set(
    *, subscription: Subscription, cancel: bool
) -> Subscription:
    """Ask Stripe to (not) cancel at the end of the period; store its answer."""
    if subscription.status in Subscription.TERMINAL:
        raise Conflict("This subscription has already ended.", code="subscription_ended")
    locked = _change_key_reserve(subscription)
    try:
        answer = stripe_client().v1.subscriptions.update(
            locked.stripe_subscription_id,
            params={"cancel_at_period_end": cancel},
            options=idempotent(locked.last_idempotency_key),
        )
    except stripe.StripeError as exc:
        raise payment_provider_error(exc) from exc
    return (
        subscription_sync_from_stripe(stripe_subscription=answer, state_at=timezone.now()) or locked
    )
