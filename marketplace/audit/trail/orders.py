"""The remix's orders: created, paid, refunded to the fan."""

from __future__ import annotations

from marketplace.audit.links import record_url
from marketplace.models import Order
from remixing.models import Remix

from .items import TrailItem


def order_list(remix: Remix) -> list[Order]:
    return list(remix.orders.select_related("fan").order_by("created_at", "id"))


def order_stripe_ids(orders: list[Order]) -> set[str]:
    """Every Stripe object id the orders name (what their webhooks are about)."""
    return {
        value
        for o in orders
        for value in (
            o.stripe_checkout_session_id,
            o.stripe_payment_intent_id,
            o.stripe_charge_id,
            o.stripe_refund_id,
            o.stripe_dispute_id,
        )
        if value
    }


def _order_items(order: Order) -> list[TrailItem]:
    link, label = record_url(order), f"Order #{order.pk}"
    items = [
        TrailItem(
            order.created_at,
            "order",
            f"Order #{order.pk} created ({order.amount_display})",
            f"Checkout session {order.stripe_checkout_session_id or '—'}",
            "muted",
            order.status,
            link,
            label,
        )
    ]
    if order.paid_at:
        items.append(
            TrailItem(
                order.paid_at,
                "payment",
                f"Paid {order.amount_display} through Stripe",
                f"Payment intent {order.stripe_payment_intent_id or '—'}, "
                f"charge {order.stripe_charge_id or '—'}",
                "ok",
                "paid",
                link,
                label,
            )
        )
    if order.refunded_at or order.refunded_cents:
        items.append(
            TrailItem(
                order.refunded_at or order.updated_at,
                "refund",
                f"Refunded {order.refunded_display} to the fan",
                f"{order.refund_reason} (Stripe refund {order.stripe_refund_id or '—'})",
                "warn",
                order.status,
                link,
                label,
            )
        )
    return items


def order_items(orders: list[Order]) -> list[TrailItem]:
    return [item for order in orders for item in _order_items(order)]
