"""Money going back: refunds (ours or from Stripe's Dashboard) and disputes.

An order's refunded total only grows and a dispute state is only replaced by
a newer one, so events may come twice and in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from django.db import transaction
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
)
from marketplace.models import Order

SUPPORT_REFUND_REASON = "Refunded by Clearmix support."


def _refund_status(order: Order) -> str:
    if order.dispute_status and order.dispute_status not in ("won", "warning_closed"):
        return Order.Status.DISPUTED
    if order.refunded_cents >= order.amount_cents:
        return Order.Status.REFUNDED
    if order.refunded_cents > 0:
        return Order.Status.PARTIALLY_REFUNDED
    return Order.Status.PAID


def order_refunded_record(order: Order, refunded_cents: int) -> bool:
    """Record a refunded total on a locked order (inside a transaction).
    Refunds only grow: a late event with a smaller total changes nothing."""
    refunded_cents = min(int(refunded_cents), order.amount_cents)
    if refunded_cents <= order.refunded_cents:
        return False
    order.refunded_cents = refunded_cents
    order.status = _refund_status(order)
    if order.status == Order.Status.REFUNDED and order.refunded_at is None:
        order.refunded_at = timezone.now()
    order.save()
    payload = {
        "order_id": order.pk,
        "refunded_cents": refunded_cents,
        "reason": order.refund_reason,
    }
    transaction.on_commit(lambda: signals.order_refunded.send_robust(sender=Order, **payload))
    return True


@transaction.atomic
def _refund_key_reserve(*, order: Order, reason: str) -> Order:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.paid_at is None:
        raise Conflict(
            "This order has not been paid, so there is nothing to refund.", code="not_paid"
        )
    if locked.refunded_cents < locked.amount_cents and not locked.refund_idempotency_key:
        locked.refund_idempotency_key = idempotency_key("order-refund-full", locked.pk)
        locked.refund_reason = reason
        locked.save(update_fields=["refund_idempotency_key", "refund_reason", "updated_at"])
    return locked


def order_refund_full(*, order: Order, reason: str) -> Order:
    """Give the fan all their money back (e.g. consent revoked before export).

    Idempotent: the key is fixed per order, so a second call (or a retry after
    a crash) returns Stripe's first refund instead of refunding twice. `reason`
    is stored and shown to the fan.
    """
    locked = _refund_key_reserve(order=order, reason=reason)
    if locked.refunded_cents >= locked.amount_cents:
        return locked
    params: dict[str, Any] = {
        "reason": "requested_by_customer",
        "metadata": {"clearmix_order_id": str(locked.pk), "clearmix_reason": reason[:450]},
    }
    if locked.stripe_charge_id:
        params["charge"] = locked.stripe_charge_id
    else:
        params["payment_intent"] = locked.stripe_payment_intent_id
    try:
        refund = stripe_client().v1.refunds.create(
            params=params, options=idempotent(locked.refund_idempotency_key)
        )
    except stripe.StripeError as exc:
        raise payment_provider_error(exc) from exc
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        locked.stripe_refund_id = refund.id
        locked.save(update_fields=["stripe_refund_id", "updated_at"])
        if sget(refund, "status") in ("succeeded", "pending"):
            order_refunded_record(locked, int(sget(refund, "amount", default=0)))
    return locked


@transaction.atomic
def order_charge_refunded(*, charge: Any) -> Order | None:
    """charge.refunded: record how much went back (refunds from the Dashboard too)."""
    order = (
        Order.objects.select_for_update().filter(stripe_charge_id=object_id(charge)).first()
        or Order.objects.select_for_update()
        .filter(stripe_payment_intent_id=object_id(sget(charge, "payment_intent")))
        .exclude(stripe_payment_intent_id="")
        .first()
    )
    if order is None or order.paid_at is None:
        return order
    if not order.stripe_charge_id:
        order.stripe_charge_id = object_id(charge)
    if not order.refund_reason:
        order.refund_reason = SUPPORT_REFUND_REASON
    order_refunded_record(order, int(sget(charge, "amount_refunded", default=0)))
    return order


def order_dispute_record(order: Order, *, dispute: Any, state_at: datetime) -> None:
    """Record a dispute state on a locked order (inside a transaction); an
    older state never replaces a newer one."""
    if order.dispute_state_at and state_at < order.dispute_state_at:
        return
    order.stripe_dispute_id = object_id(dispute)
    order.dispute_status = str(sget(dispute, "status", default=""))
    order.dispute_state_at = state_at
    order.status = _refund_status(order)
    order.save()
    payload = {"order_id": order.pk, "dispute_status": order.dispute_status}
    transaction.on_commit(lambda: signals.order_disputed.send_robust(sender=Order, **payload))


@transaction.atomic
def order_dispute_update(*, dispute: Any, state_at: datetime) -> Order | None:
    """charge.dispute.*: only a newer dispute state replaces an older one."""
    order = (
        Order.objects.select_for_update()
        .filter(stripe_charge_id=object_id(sget(dispute, "charge")))
        .first()
    )
    if order is None or order.paid_at is None:
        return order
    order_dispute_record(order, dispute=dispute, state_at=state_at)
    return order


@dataclass(frozen=True)
class FetchedDispute:
    dispute: Any
    fetched_at: datetime


def order_dispute_fetch(*, stripe_dispute_id: str) -> FetchedDispute:
    """Re-read a dispute from Stripe (the out-of-order cure), outside any
    transaction. The time that orders dispute states is ours (when we asked),
    the same clock a late payment uses when it catches up with a dispute: an
    event's `created` is Stripe's clock and its object may be stale."""
    fetched_at = timezone.now()
    dispute = stripe_client().v1.disputes.retrieve(stripe_dispute_id)
    return FetchedDispute(dispute=dispute, fetched_at=fetched_at)


def order_dispute_apply_fetched(*, fetched: FetchedDispute) -> Order | None:
    return order_dispute_update(dispute=fetched.dispute, state_at=fetched.fetched_at)
