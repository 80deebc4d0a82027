"""Paid means delivered or refunded.

Every paid remix order ends, automatically and within a bounded time, either
with its remix delivered or with a full refund. Remixing announces a remix
that ended without output (`remixing.signals.remix_undelivered`); this module
refunds its order. A sweep on beat backs that up: it refunds what a lost task
left behind, gives up on deliveries past their deadline (cancelling the job,
which refunds), and reconciles pending orders with Stripe.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.billing.money import money_display
from marketplace.billing.reconcile import orders_reconcile_pending
from marketplace.billing.services.refunds import order_refund_full
from marketplace.models import Order
from remixing.models import Remix, RemixEvent, RemixNotice
from remixing.services.job_records import remix_cancel
from remixing.services.remixes import remix_notice_create

logger = logging.getLogger(__name__)


UNDELIVERED = (Remix.Status.FAILED, Remix.Status.CANCELLED)
REFUNDABLE = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)


def order_undelivered_reason(*, remix: Remix) -> str:
    """What the fan reads next to the refund, in plain words."""
    if remix.status == Remix.Status.CANCELLED:
        why = (remix.error or "").strip()
        return (
            "Your remix was stopped before it was delivered"
            + (f" ({why.rstrip('.')})" if why else "")
            + ", so your payment was refunded in full."
        )
    return (
        "We could not make your remix after several tries, so your payment was "
        "refunded in full. Your draft is kept: you can try again later."
    )


def order_refundable_for_remix(*, remix_id: int) -> Order | None:
    """The paid order of a remix that still holds some of the fan's money."""
    return (
        Order.objects.select_related("remix")
        .filter(remix_id=remix_id, paid_at__isnull=False, status__in=REFUNDABLE)
        .order_by("-paid_at")
        .first()
    )


def order_refund_undelivered(*, remix_id: int) -> Order | None:
    """Refund the paid order of a remix that ended failed or cancelled.

    Idempotent (the refund's idempotency key is fixed per order) and safe to
    run from the signal, the task's retries and the sweep alike. A remix that
    was delivered after all is never refunded by this path. The ledger side
    (settlement reversed, transfers reversed or turned into receivables)
    follows from Stripe's charge.refunded, as for every refund.
    """
    order = order_refundable_for_remix(remix_id=remix_id)
    if order is None or order.remix.status not in UNDELIVERED:
        return None
    reason = order_undelivered_reason(remix=order.remix)
    refunded = order_refund_full(order=order, reason=reason)
    if refunded.refunded_cents >= refunded.amount_cents:
        _notify_refunded(refunded)
    return refunded


def _notify_refunded(order: Order) -> None:
    remix = order.remix
    kind = (
        RemixNotice.Kind.CANCELLED
        if remix.status == Remix.Status.CANCELLED
        else (RemixNotice.Kind.FAILED)
    )
    message = (
        f"We refunded {money_display(order.amount_cents, order.currency)} for "
        f"“{remix.title or 'your remix'}”. {order.refund_reason}"
    )
    with transaction.atomic():
        if not RemixNotice.objects.filter(remix=remix, message=message).exists():
            remix_notice_create(remix=remix, kind=kind, message=message)


def order_list_undelivered_unrefunded() -> list[Order]:
    """Paid orders whose remix failed or was cancelled and that still hold money
    (a lost task, Stripe down at the time): the sweep refunds them."""
    return list(
        Order.objects.select_related("remix")
        .filter(
            paid_at__isnull=False,
            status__in=REFUNDABLE,
            remix__status__in=UNDELIVERED,
        )
        .order_by("paid_at")
    )


def delivery_deadline() -> timedelta:
    return timedelta(minutes=settings.ORDER_DELIVERY_DEADLINE_MINUTES)


def order_list_past_delivery_deadline(*, now=None) -> list[Order]:
    """Paid orders whose remix is still not delivered after the deadline."""
    now = now or timezone.now()
    return list(
        Order.objects.select_related("remix")
        .filter(
            paid_at__isnull=False,
            paid_at__lt=now - delivery_deadline(),
            status__in=REFUNDABLE,
            remix__status__in=(Remix.Status.DRAFT, *Remix.ACTIVE_STATUSES),
        )
        .order_by("paid_at")
    )


def order_give_up_delivery(*, order: Order) -> Order | None:
    """Stop waiting for a remix that missed its deadline and refund it."""
    remix = order.remix
    reason = "it took much longer than it should have to make"
    if remix.status in Remix.ACTIVE_STATUSES:
        # Cancelling announces the remix as undelivered: the refund follows
        # through the same path as any other cancellation.
        remix_cancel(remix=remix, reason=reason, actor_kind=RemixEvent.Actor.SYSTEM)
        remix.refresh_from_db()
        return order_refund_undelivered(remix_id=remix.pk)
    # Never started (still a draft): the fan keeps the draft and their money.
    return order_refund_full(
        order=order,
        reason=(
            "We could not start making your remix in time, so your payment was refunded "
            "in full. Your draft is kept: you can export it again."
        ),
    )


def delivery_sweep_run(*, now=None) -> dict[str, int]:
    """One pass of the sweep; each order is handled on its own, so one failure
    (Stripe down for one refund) does not stop the rest."""
    counts = {"refunded": 0, "gave_up": 0, "errors": 0}
    for order in order_list_undelivered_unrefunded():
        counts[
            "refunded" if _safely(order_refund_undelivered, remix_id=order.remix_id) else "errors"
        ] += 1
    for order in order_list_past_delivery_deadline(now=now):
        counts["gave_up" if _safely(order_give_up_delivery, order=order) else "errors"] += 1
    counts.update(orders_reconcile_pending(now=now))
    return counts


def _safely(fn, **kwargs) -> bool:
    try:
        fn(**kwargs)
    except Exception:  # logged and retried on the next sweep
        logger.exception("delivery sweep: %s(%s) failed", fn.__name__, kwargs)
        return False
    return True
