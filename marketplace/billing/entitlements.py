"""What a fan may do, and exactly what is missing otherwise.

Derived only from our copy of Stripe's subscription state, which moves only
through webhooks: a success redirect alone never grants anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.urls import reverse

from marketplace.models import Plan, Subscription


class Missing(TypedDict):
    code: str
    message: str
    fix_url: str


@dataclass(frozen=True)
class Entitlement:
    can_remix: bool
    missing: list[Missing] = field(default_factory=list)
    premium_active: bool = False
    remix_addon_active: bool = False


def _best_status(statuses: list[str]) -> str | None:
    """The most favourable status among a user's subscriptions to one plan."""
    rank = [
        Subscription.Status.ACTIVE,
        Subscription.Status.TRIALING,
        Subscription.Status.PAST_DUE,
        Subscription.Status.UNPAID,
        Subscription.Status.PAUSED,
        Subscription.Status.INCOMPLETE,
    ]
    for status in rank:
        if status in statuses:
            return status
    return None


def _plan_missing(*, plan_code: str, status: str | None, label: str) -> Missing | None:
    if status in Subscription.ENTITLING:
        return None
    pricing = reverse("marketplace:pricing")
    billing = reverse("marketplace:billing")
    if status in (Subscription.Status.PAST_DUE, Subscription.Status.UNPAID):
        return Missing(
            code=f"{plan_code}_past_due",
            message=(
                f"Your last {label} payment failed. Update your payment method to keep remixing."
            ),
            fix_url=billing,
        )
    if status == Subscription.Status.INCOMPLETE:
        return Missing(
            code=f"{plan_code}_incomplete",
            message=f"Your {label} payment has not gone through yet.",
            fix_url=billing,
        )
    if status == Subscription.Status.PAUSED:
        return Missing(
            code=f"{plan_code}_paused",
            message=f"Your {label} subscription is paused.",
            fix_url=billing,
        )
    return Missing(
        code=f"{plan_code}_required",
        message=f"You need an active {label} subscription.",
        fix_url=f"{pricing}#plan-{plan_code}",
    )


def fan_entitlement(*, user: Any) -> Entitlement:
    """Whether `user` may open the studio and buy remixes: Premium and the
    Remix add-on must both be active (or trialing)."""
    if user is None or not user.is_authenticated:
        login = reverse("account_login")
        return Entitlement(
            can_remix=False,
            missing=[
                Missing(
                    code="login_required",
                    message="Log in or create an account to remix.",
                    fix_url=f"{login}?next={reverse('marketplace:pricing')}",
                )
            ],
        )
    statuses: dict[str, list[str]] = {}
    for plan_code, status in Subscription.objects.filter(user=user).values_list(
        "plan__code", "status"
    ):
        statuses.setdefault(plan_code, []).append(status)
    premium = _best_status(statuses.get(Plan.Code.PREMIUM, []))
    addon = _best_status(statuses.get(Plan.Code.REMIX_ADDON, []))
    missing = [
        item
        for item in (
            _plan_missing(plan_code=Plan.Code.PREMIUM, status=premium, label="Premium"),
            _plan_missing(plan_code=Plan.Code.REMIX_ADDON, status=addon, label="Remix add-on"),
        )
        if item is not None
    ]
    return Entitlement(
        can_remix=not missing,
        missing=missing,
        premium_active=premium in Subscription.ENTITLING,
        remix_addon_active=addon in Subscription.ENTITLING,
    )
