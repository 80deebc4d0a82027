"""Billing reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from core.errors import NotFound
from marketplace.models import Order, Plan, Subscription, SubscriptionCheckout, WebhookEvent

from .entitlements import Entitlement, fan_entitlement


@dataclass(frozen=True)
class PlanOffer:
    plan: Plan
    subscribed: bool
    status: str | None
    available: bool
    blocked_reason: str


def plan_list_for_pricing(*, user: Any) -> tuple[list[PlanOffer], Entitlement]:
    entitlement = fan_entitlement(user=user)
    active = {
        Plan.Code.PREMIUM: entitlement.premium_active,
        Plan.Code.REMIX_ADDON: entitlement.remix_addon_active,
    }
    statuses: dict[str, str] = {}
    if user.is_authenticated:
        for code, status in (
            Subscription.objects.filter(user=user)
            .order_by("created_at")
            .values_list("plan__code", "status")
        ):
            statuses[code] = status
    offers = []
    for plan in Plan.objects.select_related("requires"):
        blocked = ""
        if not plan.stripe_price_id:
            blocked = "Not on sale yet."
        elif plan.requires_id and user.is_authenticated and not active.get(plan.requires.code):
            blocked = f"Requires {plan.requires.name}."
        offers.append(
            PlanOffer(
                plan=plan,
                subscribed=bool(active.get(plan.code)),
                status=statuses.get(plan.code),
                available=not blocked,
                blocked_reason=blocked,
            )
        )
    return offers, entitlement


def subscription_list_for_user(*, user: Any) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(user=user)
        .select_related("plan")
        .order_by("plan__sort_order", "-created_at")
    )


def subscription_get_for_user(*, user: Any, subscription_id: int) -> Subscription:
    subscription = subscription_list_for_user(user=user).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("No such subscription.")
    return subscription


def order_list_for_fan(*, fan: Any) -> QuerySet[Order]:
    return (
        Order.objects.filter(fan=fan)
        .select_related("remix", "remix__recording")
        .order_by("-created_at")
    )


def order_get_for_fan(*, fan: Any, order_id: int) -> Order:
    order = order_list_for_fan(fan=fan).filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order.")
    return order


def checkout_status(*, user: Any, session_id: str) -> dict[str, Any]:
    """What the success page shows while it waits for the webhook.

    state: "confirming" (no webhook yet), "active", "failed" (Stripe says the
    subscription is not paid), "expired".
    """
    attempt = (
        SubscriptionCheckout.objects.select_related("plan")
        .filter(user=user, stripe_checkout_session_id=session_id)
        .first()
    )
    if attempt is None:
        raise NotFound("No such checkout.")
    state = "confirming"
    subscription = None
    if attempt.stripe_subscription_id:
        subscription = Subscription.objects.filter(
            stripe_subscription_id=attempt.stripe_subscription_id
        ).first()
    if subscription is not None:
        if subscription.is_entitling:
            state = "active"
        elif subscription.status != Subscription.Status.INCOMPLETE:
            state = "failed"
    elif attempt.status == SubscriptionCheckout.Status.EXPIRED:
        state = "expired"
    return {
        "state": state,
        "plan": attempt.plan.code,
        "plan_name": attempt.plan.name,
        "subscription_status": subscription.status if subscription else None,
    }


def order_get_for_session(*, fan: Any, session_id: str) -> Order:
    order = (
        order_list_for_fan(fan=fan).filter(stripe_checkout_session_id=session_id).first()
        if session_id
        else None
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def order_status(*, order: Order) -> dict[str, Any]:
    return {
        "order": order.pk,
        "status": order.status,
        "paid": order.paid_at is not None,
        "refund_reason": order.refund_reason,
    }


def webhook_event_list(*, status: str | None = None, limit: int = 200) -> QuerySet[WebhookEvent]:
    events = WebhookEvent.objects.defer("payload").order_by("-received_at")
    if status:
        events = events.filter(status=status)
    return events[:limit]


def webhook_event_counts() -> dict[str, int]:
    return dict(
        WebhookEvent.objects.values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
