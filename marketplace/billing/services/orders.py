"""Paying for a remix export: the order and its Checkout Session."""

from __future__ import annotations

from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError
from marketplace.billing.entitlements import fan_entitlement
from marketplace.billing.remixes import remix_purchase_check, remix_transfer_group
from marketplace.billing.stripe_client import (
    idempotency_key,
    idempotent,
    object_id,
    payment_provider_error,
    sget,
    stripe_client,
)
from marketplace.models import Order

from .customers import billing_customer_ensure


def order_product_name(remix: Any) -> str:
    """What the fan reads on Stripe's checkout page and receipt: the remix by
    its title and the track it remixes, never an internal number."""
    title = (remix.title or "").strip() or "Untitled remix"
    return f"Remix “{title}” of {remix.recording.title}"


def _purchase_check(*, fan: Any, remix: Any) -> None:
    entitlement = fan_entitlement(user=fan)
    if not entitlement.can_remix:
        raise DomainError(
            " ".join(item["message"] for item in entitlement.missing),
            code="not_entitled",
        )
    remix_purchase_check(fan=fan, remix=remix)
    if Order.objects.filter(remix=remix, paid_at__isnull=False, status__in=Order.LIVE).exists():
        raise Conflict("This remix is already paid for.", code="already_paid")


@transaction.atomic
def _order_reserve(*, fan: Any, remix: Any) -> Order:
    """The fan's live pending order for this remix, or a new one; its key saved."""
    order = (
        Order.objects.select_for_update().filter(remix_id=remix.pk, status__in=Order.LIVE).first()
    )
    if order is not None and order.status != Order.Status.PENDING:
        raise Conflict("This remix is already paid for.", code="already_paid")
    if order is not None and order.fan_id != fan.pk:
        raise Conflict("Someone else is paying for this remix.", code="order_in_progress")
    if order is None:
        # Again, next to the write: consent may have been withdrawn while
        # we were asking Stripe for the customer (found by the race test).
        remix_purchase_check(fan=fan, remix=remix)
        order = Order.objects.create(
            fan=fan,
            remix=remix,
            amount_cents=settings.REMIX_PRICE_CENTS,
            currency=settings.STRIPE_CURRENCY.lower(),
            transfer_group=remix_transfer_group(remix),
        )
    if not order.idempotency_key:
        # A pending order made elsewhere (admin, an import) still gets its
        # key saved before the first call to Stripe.
        order.idempotency_key = idempotency_key("order-checkout", order.pk)
        order.save(update_fields=["idempotency_key"])
    return order


def _checkout_params(*, order: Order, remix: Any, customer_id: str, urls: dict[str, str]) -> dict:
    metadata = {
        "clearmix_order_id": str(order.pk),
        "clearmix_remix_id": str(order.remix_id),
        "clearmix_user_id": str(order.fan_id),
    }
    product = {
        "name": order_product_name(remix)[:250],
        "metadata": {"clearmix_remix_id": str(order.remix_id)},
    }
    return {
        "mode": "payment",
        "customer": customer_id,
        "client_reference_id": str(order.fan_id),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": order.amount_cents,
                    "product_data": product,
                },
            }
        ],
        "payment_intent_data": {"transfer_group": order.transfer_group, "metadata": metadata},
        "metadata": metadata,
        **urls,
    }


def order_checkout_start(*, fan: Any, remix: Any, success_url: str, cancel_url: str) -> Order:
    """Start paying for a remix export: Checkout in payment mode.

    Refuses a remix that is not the fan's, not remixable, or already paid, and a
    fan without Premium + Remix add-on. Re-running it for the same remix reuses
    the pending order and, through its idempotency key, the same session.
    """
    _purchase_check(fan=fan, remix=remix)
    customer = billing_customer_ensure(user=fan)
    order = _order_reserve(fan=fan, remix=remix)
    if order.checkout_url:
        return order
    params = _checkout_params(
        order=order,
        remix=remix,
        customer_id=customer.stripe_customer_id,
        urls={"success_url": success_url, "cancel_url": cancel_url},
    )
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params=params, options=idempotent(order.idempotency_key)
        )
    except stripe.StripeError as exc:
        raise payment_provider_error(exc) from exc
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            stripe_checkout_session_id=object_id(session),
            checkout_url=session.url or "",
            updated_at=timezone.now(),
        )
    order.refresh_from_db()
    return order


def order_for_session_locked(session: Any) -> Order | None:
    """The order a Checkout Session pays for, locked (call inside a transaction)."""
    order_id = sget(session, "metadata", "clearmix_order_id")
    query = Order.objects.select_for_update()
    if order_id:
        return query.filter(pk=int(order_id)).first()
    return query.filter(stripe_checkout_session_id=object_id(session)).first()


@transaction.atomic
def order_checkout_expire(*, session: Any) -> Order | None:
    order = order_for_session_locked(session)
    if order is None or order.status != Order.Status.PENDING:
        return order
    order.status = Order.Status.CANCELLED
    order.cancelled_at = timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    return order
