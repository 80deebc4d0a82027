"""What stops an account deletion (orders, subscriptions, claimed parties)."""

from __future__ import annotations

from catalog.models import Party
from marketplace.models import Order, Subscription


def account_deletion_blockers(*, user) -> list[str]:
    """Plain-word reasons why this account cannot be deleted yet; [] when it can.

    Deleting must not break a promise made to someone else:
    - a verified artist or songwriter profile carries consent that others rely
      on and earnings that must keep a payee: it has to be handed over first
      (a claim still waiting for staff is simply withdrawn by the deletion);
    - a subscription that would renew would keep charging a person who can no
      longer log in to cancel it;
    - an order still awaiting payment or under dispute is money in flight.
    """
    reasons = []
    parties = list(Party.objects.filter(user=user, claim_verified=True).order_by("name"))
    if parties:
        names = ", ".join(f"{p.name} ({p.get_kind_display().lower()})" for p in parties)
        reasons.append(
            f"Your account manages {names}. Consent and payouts depend on it, so please "
            "contact support to hand the profile over or close it before deleting."
        )
    renewing = Subscription.objects.filter(
        user=user, status__in=Subscription.ENTITLING, cancel_at_period_end=False
    )
    for sub in renewing.select_related("plan"):
        reasons.append(
            f"Your {sub.plan.name} subscription renews automatically. "
            "Cancel it on the Billing page first."
        )
    in_flight = Order.objects.filter(
        fan=user, status__in=(Order.Status.PENDING, Order.Status.DISPUTED)
    ).order_by("pk")
    for order in in_flight:
        what = "awaits payment" if order.status == Order.Status.PENDING else "is under dispute"
        reasons.append(f"Order #{order.pk} {what}. Wait until it is settled.")
    return reasons
