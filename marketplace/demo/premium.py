"""Make the demo fan a paying Premium + Remix add-on subscriber, for real.

Each plan is bought the way a fan buys it: a Checkout Session through the
SDK, paid on the sandbox's hosted page with a test card. Entitlement is then
taken from Stripe's own state (a re-fetch of the subscription, exactly what the
webhook handler does), never from the redirect.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from marketplace.billing.entitlements import fan_entitlement
from marketplace.billing.services.subscription_checkout import subscription_checkout_start
from marketplace.billing.services.subscriptions import subscription_refresh
from marketplace.billing.stripe_client import stripe_client
from marketplace.models import Plan
from royalties.models import Payee
from royalties.services.payees import payee_onboarding_link, payee_refresh
from stripe_sandbox.testing import submit_checkout, submit_onboarding


def demo_fan_subscribe(*, user, log: Callable[[str], None] = print) -> bool:
    """Returns True when the fan may remix. Needs the sandbox to be running."""
    if not settings.STRIPE_SANDBOX:
        return fan_entitlement(user=user).can_remix
    for code in (Plan.Code.PREMIUM, Plan.Code.REMIX_ADDON):
        entitlement = fan_entitlement(user=user)
        active = (
            entitlement.premium_active
            if code == Plan.Code.PREMIUM
            else (entitlement.remix_addon_active)
        )
        if active:
            continue
        site = settings.SITE_URL
        checkout = subscription_checkout_start(
            user=user,
            plan_code=code,
            success_url=f"{site}/billing/checkout/success/?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{site}/pricing/",
        )
        session = stripe_client().v1.checkout.sessions.retrieve(checkout.stripe_checkout_session_id)
        submit_checkout(session.url, "4242424242424242")
        paid = stripe_client().v1.checkout.sessions.retrieve(checkout.stripe_checkout_session_id)
        subscription_id = (
            paid.subscription if isinstance(paid.subscription, str) else (paid.subscription.id)
        )
        subscription_refresh(stripe_subscription_id=subscription_id)
        log(f"  {user.email} subscribed to {code} (sandbox checkout, test card 4242…)")
    return fan_entitlement(user=user).can_remix


def demo_party_onboard(*, party, user, log: Callable[[str], None] = print) -> None:
    """Complete Stripe Connect Express onboarding for one demo party through
    the sandbox's hosted onboarding page, so some payouts flow at once while
    others (parties not onboarded) accrue as owed."""
    if not settings.STRIPE_SANDBOX:
        return
    existing = Payee.objects.filter(party=party).first()
    if existing is not None and existing.can_receive:
        return
    site = settings.SITE_URL
    link = payee_onboarding_link(
        party=party,
        user=user,
        return_url=f"{site}/payouts/",
        refresh_url=f"{site}/payouts/",
    )
    submit_onboarding(link, "complete")
    payee = payee_refresh(party=party)
    if payee is not None:
        log(f"  {party.name} onboarded to Stripe Connect (sandbox Express account)")
