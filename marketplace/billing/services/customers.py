"""The Stripe Customer behind each paying user."""

from __future__ import annotations

from typing import Any

import stripe
from django.db import transaction

from marketplace.billing.stripe_client import (
    idempotency_key,
    idempotent,
    payment_provider_error,
    stripe_client,
)
from marketplace.models import BillingCustomer


def _customer_reserve(*, user: Any) -> BillingCustomer:
    with transaction.atomic():
        customer, _ = BillingCustomer.objects.get_or_create(
            user=user, defaults={"idempotency_key": idempotency_key("customer-user", user.pk)}
        )
    return customer


def billing_customer_ensure(*, user: Any) -> BillingCustomer:
    """The user's Stripe Customer, created exactly once."""
    customer = _customer_reserve(user=user)
    if customer.stripe_customer_id:
        return customer
    try:
        created = stripe_client().v1.customers.create(
            params={
                "email": user.email,
                "name": str(user),
                "metadata": {"clearmix_user_id": str(user.pk)},
            },
            options=idempotent(customer.idempotency_key),
        )
    except stripe.StripeError as exc:
        raise payment_provider_error(exc) from exc
    with transaction.atomic():
        BillingCustomer.objects.filter(pk=customer.pk, stripe_customer_id="").update(
            stripe_customer_id=created.id
        )
    customer.refresh_from_db()
    return customer


def billing_customer_scrub(*, user: Any) -> None:
    """After an account is deleted, drop the person's email and name from their
    Stripe Customer. The customer id stays: refunds and disputes of past orders
    still need it."""
    customer = BillingCustomer.objects.filter(user=user).exclude(stripe_customer_id="").first()
    if customer is None:
        return
    try:
        stripe_client().v1.customers.update(
            customer.stripe_customer_id, params={"email": "", "name": user.handle}
        )
    except stripe.StripeError as exc:
        raise payment_provider_error(exc) from exc
