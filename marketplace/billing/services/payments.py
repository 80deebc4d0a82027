"""A Checkout Session says an order is paid: read the charge, then record it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from marketplace.billing import signals
from marketplace.billing.stripe_client import object_id, sget, stripe_client
from marketplace.models import Order

from .orders import order_for_session_locked
from .refunds import order_dispute_record, order_refunded_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchedPayment:
    """The intent's successful charge (and its dispute, if any), re-read from
    Stripe: refunds or disputes that happened before a late event reached us
    are on it."""

    payment_intent_id: str
    charge: Any
    dispute: Any
    fetched_at: datetime


def _order_paid_already(session: Any) -> bool:
    """A plain read: the success page usually records the payment before the
    webhook comes, and then there is nothing to ask Stripe."""
    order_id = sget(session, "metadata", "clearmix_order_id")
    orders = (
        Order.objects.filter(pk=int(order_id))
        if order_id
        else Order.objects.filter(stripe_checkout_session_id=object_id(session))
    )
    return orders.filter(paid_at__isnull=False).exists()


def order_payment_fetch(*, session: Any) -> FetchedPayment | None:
    """Read a paid session's charge from Stripe (outside any transaction);
    None when the session is not paid or its order was recorded paid already."""
    payment_intent_id = object_id(sget(session, "payment_intent"))
    if sget(session, "payment_status") != "paid" or not payment_intent_id:
        return None
    if _order_paid_already(session):
        return None
    fetched_at = timezone.now()
    client = stripe_client()
    intent = client.v1.payment_intents.retrieve(payment_intent_id)
    charge_id = object_id(sget(intent, "latest_charge"))
    if not charge_id:
        charges = sget(intent, "charges", "data", default=[])  # 2020-08-27 shape
        charge_id = object_id(charges[-1]) if charges else ""
    charge = client.v1.charges.retrieve(charge_id) if charge_id else None
    dispute_id = object_id(sget(charge, "dispute"))
    dispute = client.v1.disputes.retrieve(dispute_id) if dispute_id else None
    return FetchedPayment(payment_intent_id, charge, dispute, fetched_at)


def _amount_check(order: Order, session: Any) -> None:
    amount = sget(session, "amount_total")
    currency = str(sget(session, "currency", default="")).lower()
    if amount != order.amount_cents or currency != order.currency:
        # Should never happen (we set the price); keep Stripe's truth visible.
        logger.error(
            "Order %s paid %s %s, expected %s %s",
            order.pk,
            amount,
            currency,
            order.amount_cents,
            order.currency,
        )


def _catch_up(order: Order, payment: FetchedPayment) -> None:
    """Apply anything that happened to the charge before we heard of it."""
    if payment.charge is not None and int(sget(payment.charge, "amount_refunded", default=0)):
        order.refund_reason = order.refund_reason or "Refunded by Clearmix support."
        order_refunded_record(order, int(sget(payment.charge, "amount_refunded")))
    if payment.dispute is not None:
        order_dispute_record(order, dispute=payment.dispute, state_at=payment.fetched_at)


@transaction.atomic
def order_mark_paid(*, session: Any, payment: FetchedPayment | None) -> Order | None:
    """A Checkout Session says the order is paid. Moves pending/cancelled → paid
    once; any later state (refunded, disputed) is left alone. `payment` is
    what `order_payment_fetch` read for this session."""
    order = order_for_session_locked(session)
    if order is None or order.paid_at is not None:
        return order
    if sget(session, "payment_status") != "paid":
        return order
    _amount_check(order, session)
    order.stripe_checkout_session_id = order.stripe_checkout_session_id or object_id(session)
    order.stripe_payment_intent_id = payment.payment_intent_id if payment else ""
    order.stripe_charge_id = object_id(payment.charge) if payment else ""
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.cancelled_at = None
    order.save()
    order_id = order.pk
    transaction.on_commit(lambda: signals.order_paid.send_robust(sender=Order, order_id=order_id))
    if payment is not None:
        _catch_up(order, payment)
    return order


def order_mark_paid_from_stripe(*, session: Any) -> Order | None:
    """Fetch the session's charge, then record the payment (reconciliation)."""
    return order_mark_paid(session=session, payment=order_payment_fetch(session=session))
