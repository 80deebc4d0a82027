"""Scenario builders shared by the sandbox tests (everything goes through the real SDK)."""

from __future__ import annotations

from typing import Any

import stripe

from stripe_sandbox.server import SandboxServer
from stripe_sandbox.testing import hook, submit_checkout, submit_onboarding

OK_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
RENEWAL_FAILS_CARD = "4000000000000341"
SUCCESS_URL = "https://clearmix.test/checkout/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://clearmix.test/checkout/cancel"


def catalog() -> dict[str, Any]:
    product = stripe.Product.create(name="Remix license", metadata={"kind": "license"})
    one_time = stripe.Price.create(
        product=product.id, unit_amount=1500, currency="usd", lookup_key="remix_license"
    )
    monthly = stripe.Price.create(
        product=product.id,
        unit_amount=900,
        currency="usd",
        recurring={"interval": "month"},
        lookup_key="premium_monthly",
    )
    return {"product": product, "one_time": one_time, "monthly": monthly}


def payment_session(price_id: str, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "customer_email": "fan@example.com",
        "payment_intent_data": {"transfer_group": "order_42", "metadata": {"order": "42"}},
        "metadata": {"order": "42"},
        "client_reference_id": "user_7",
    }
    params.update(extra)
    return stripe.checkout.Session.create(**params)


def subscription_session(price_id: str, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "customer_email": "subscriber@example.com",
        "subscription_data": {"metadata": {"plan": "premium"}},
    }
    params.update(extra)
    return stripe.checkout.Session.create(**params)


def pay(session: Any, card: str = OK_CARD, **fields: str) -> Any:
    """Pay through the hosted page; returns the completed session (payment_intent expanded)."""
    result = submit_checkout(session.url, card, **fields)
    assert result.status == 303, result.text
    return stripe.checkout.Session.retrieve(session.id, expand=["payment_intent"])


def paid_payment(price_id: str, **extra: Any) -> tuple[Any, Any]:
    """(session, charge) for a payment-mode checkout paid with the 4242 card."""
    session = pay(payment_session(price_id, **extra))
    charge = stripe.Charge.retrieve(session.payment_intent.latest_charge)
    return session, charge


def paid_subscription(price_id: str, card: str = OK_CARD, **extra: Any) -> Any:
    session = pay(subscription_session(price_id, **extra), card)
    return stripe.Subscription.retrieve(session.subscription)


def express_account(email: str = "artist@example.com") -> Any:
    return stripe.Account.create(
        type="express",
        email=email,
        metadata={"artist_id": "9"},
        capabilities={"transfers": {"requested": True}},
    )


def onboard(account_id: str, action: str = "complete") -> Any:
    link = stripe.AccountLink.create(
        account=account_id,
        refresh_url="https://clearmix.test/connect/refresh",
        return_url="https://clearmix.test/connect/return",
        type="account_onboarding",
    )
    result = submit_onboarding(link.url, action)
    assert result.status == 303, result.text
    assert result.location == "https://clearmix.test/connect/return"
    return stripe.Account.retrieve(account_id)


def advance(server: SandboxServer, **amount: float) -> dict[str, Any]:
    return hook(server.url, "clock/advance", amount)


def event_types(**filters: Any) -> list[str]:
    """All event types, oldest first."""
    return [
        e.type for e in reversed(list(stripe.Event.list(limit=100, **filters).auto_paging_iter()))
    ]
