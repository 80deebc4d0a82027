"""Checkout in subscription mode: opening it, and what its events tell us."""

from __future__ import annotations

from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound
from marketplace.billing.entitlements import fan_entitlement
from marketplace.billing.stripe_client import (
    idempotency_key,
    idempotent,
    object_id,
    payment_provider_error,
    sget,
    stripe_client,
)
from marketplace.models import Plan, SubscriptionCheckout

from .customers import billing_customer_ensure

# How long an open Checkout page is reused instead of making a new one.
CHECKOUT_REUSE_SECONDS = 60 * 60


def _plan_for_checkout(code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise NotFound("No such plan.")
    if not plan.stripe_price_id:
        raise DomainError(
            "This plan is not on sale yet (run `manage.py stripe_sync_catalog`).",
            code="plan_not_synced",
        )
    return plan


def _subscribe_check(*, user: Any, plan: Plan) -> None:
    entitlement = fan_entitlement(user=user)
    if plan.code == Plan.Code.PREMIUM and entitlement.premium_active:
        raise Conflict("You already have Premium.", code="already_subscribed")
    if plan.code == Plan.Code.REMIX_ADDON:
        if entitlement.remix_addon_active:
            raise Conflict("You already have the Remix add-on.", code="already_subscribed")
        if not entitlement.premium_active:
            raise DomainError(
                "The Remix add-on requires an active Premium subscription. "
                "Subscribe to Premium first.",
                code="premium_required",
            )


@transaction.atomic
def _checkout_reserve(*, user: Any, plan: Plan) -> tuple[SubscriptionCheckout, bool]:
    """An open attempt of the last hour (reused: True), or a new one with its key."""
    cutoff = timezone.now() - timezone.timedelta(seconds=CHECKOUT_REUSE_SECONDS)
    reusable = (
        SubscriptionCheckout.objects.select_for_update()
        .filter(
            user=user,
            plan=plan,
            status=SubscriptionCheckout.Status.OPEN,
            created_at__gte=cutoff,
        )
        .exclude(checkout_url="")
        .first()
    )
    if reusable is not None:
        return reusable, True
    attempt = SubscriptionCheckout.objects.create(user=user, plan=plan)
    attempt.idempotency_key = idempotency_key("subscription-checkout", attempt.pk)
    attempt.save(update_fields=["idempotency_key"])
    return attempt, False


def subscription_checkout_start(
    *, user: Any, plan_code: str, success_url: str, cancel_url: str
) -> SubscriptionCheckout:
    """Open (or reuse) a Checkout Session in subscription mode for one plan.

    `success_url` should contain "{CHECKOUT_SESSION_ID}" so the success page can
    poll the outcome; the redirect itself grants nothing.
    """
    plan = _plan_for_checkout(plan_code)
    _subscribe_check(user=user, plan=plan)
    customer = billing_customer_ensure(user=user)
    attempt, reused = _checkout_reserve(user=user, plan=plan)
    if reused:
        return attempt
    metadata = {"clearmix_user_id": str(user.pk), "clearmix_plan": plan.code}
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer.stripe_customer_id,
                "client_reference_id": str(user.pk),
                "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": {**metadata, "clearmix_checkout_id": str(attempt.pk)},
                "subscription_data": {"metadata": metadata},
            },
            options=idempotent(attempt.idempotency_key),
        )
    except stripe.StripeError as exc:
        raise payment_provider_error(exc) from exc
    with transaction.atomic():
        attempt.stripe_checkout_session_id = session.id
        attempt.checkout_url = session.url or ""
        attempt.status = SubscriptionCheckout.Status.OPEN
        attempt.save(
            update_fields=["stripe_checkout_session_id", "checkout_url", "status", "updated_at"]
        )
    return attempt


@transaction.atomic
def subscription_checkout_link(*, session: Any) -> SubscriptionCheckout | None:
    """Remember which subscription a completed Checkout produced."""
    attempt = (
        SubscriptionCheckout.objects.select_for_update()
        .filter(stripe_checkout_session_id=object_id(session))
        .first()
    )
    if attempt is None:
        return None
    attempt.stripe_subscription_id = object_id(sget(session, "subscription"))
    if attempt.status != SubscriptionCheckout.Status.COMPLETE:
        attempt.status = SubscriptionCheckout.Status.OPEN
    attempt.save(update_fields=["stripe_subscription_id", "status", "updated_at"])
    return attempt


@transaction.atomic
def subscription_checkout_expire(*, session: Any) -> None:
    SubscriptionCheckout.objects.filter(
        stripe_checkout_session_id=object_id(session),
        status__in=[SubscriptionCheckout.Status.CREATED, SubscriptionCheckout.Status.OPEN],
        stripe_subscription_id="",
    ).update(status=SubscriptionCheckout.Status.EXPIRED, updated_at=timezone.now())
