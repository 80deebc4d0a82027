"""Anomalies of "paid means delivered or refunded" and of jobs that hold leases.

Each finder runs in a fixed number of queries and returns nothing on clean
data; each names the rows an auditor opens to see why.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from core.refs import ORDER_PREFIX
from marketplace.billing.money import money_display
from marketplace.models import Order
from remixing.models import Remix
from remixing.selectors import jobs_past_lease
from royalties.models import Refund, Settlement

from .findings import Anomaly, Evidence
from .links import record_url, remix_trail_url

LIVE_PAID = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)
DELIVERED = (Remix.Status.READY, Remix.Status.PUBLISHED)
UNDELIVERED = (Remix.Status.FAILED, Remix.Status.CANCELLED)


def _order_anomaly(kind: str, order: Order, detail: str, when: datetime | None) -> Anomaly:
    remix = order.remix
    return Anomaly(
        kind=kind,
        subject=f"Order #{order.pk} for “{remix.title or 'Untitled remix'}”",
        detail=detail,
        when=when,
        evidence=[
            Evidence(f"Order #{order.pk}", record_url(order)),
            Evidence(f"Remix #{remix.pk} trail", remix_trail_url(remix.pk)),
        ],
        remix_id=remix.pk,
        recording_id=remix.recording_id,
        amount_cents=order.amount_cents - order.refunded_cents,
        currency=order.currency,
    )


def paid_not_delivered(*, now: datetime | None = None) -> list[Anomaly]:
    """Paid orders whose remix is still not delivered after the delivery
    deadline: the sweep should have cancelled and refunded them."""
    now = now or timezone.now()
    deadline = timedelta(minutes=settings.ORDER_DELIVERY_DEADLINE_MINUTES) + timedelta(minutes=10)
    orders = (
        Order.objects.filter(paid_at__lt=now - deadline, status__in=LIVE_PAID)
        .exclude(remix__status__in=(*DELIVERED, *UNDELIVERED))
        .select_related("remix")
        .order_by("paid_at", "id")
    )
    return [
        _order_anomaly(
            "paid_not_delivered",
            order,
            f"Paid {order.paid_at:%Y-%m-%d %H:%M}; the remix is still "
            f"“{order.remix.get_status_display()}” ({order.remix.stage or 'no stage'}).",
            order.paid_at,
        )
        for order in orders
    ]


def undelivered_not_refunded(*, now: datetime | None = None) -> list[Anomaly]:
    """Remixes that failed or were cancelled while their order still holds
    the fan's money, past the time an automatic refund takes."""
    now = now or timezone.now()
    orders = (
        Order.objects.filter(
            paid_at__isnull=False,
            status__in=LIVE_PAID,
            remix__status__in=UNDELIVERED,
            remix__updated_at__lt=now - timedelta(minutes=settings.AUDIT_REFUND_GRACE_MINUTES),
        )
        .select_related("remix")
        .order_by("remix__updated_at", "id")
    )
    return [
        _order_anomaly(
            "undelivered_not_refunded",
            order,
            f"The remix is {order.remix.get_status_display().lower()} "
            f"({(order.remix.error or 'no reason recorded')[:160]}), yet "
            f"{money_display(order.amount_cents - order.refunded_cents, order.currency)} "
            "was not refunded.",
            order.remix.updated_at,
        )
        for order in orders
    ]


def pending_orders_paid_at_stripe(*, now: datetime | None = None) -> list[Anomaly]:
    """Pending orders whose Checkout Session Stripe reported as paid when it
    was last asked (the reconciliation could not apply it), or that nobody has
    asked Stripe about long after they should have been."""
    now = now or timezone.now()
    unchecked_after = timedelta(seconds=settings.ORDER_RECONCILE_AFTER_SECONDS) * 10
    orders = (
        Order.objects.filter(status=Order.Status.PENDING)
        .filter(
            Q(stripe_session_status__endswith="/paid")
            | Q(
                stripe_checked_at__isnull=True,
                created_at__lt=now - unchecked_after,
                stripe_checkout_session_id__isnull=False,
            )
        )
        .select_related("remix")
        .order_by("created_at", "id")
    )
    found = []
    for order in orders:
        if order.stripe_session_status.endswith("/paid"):
            detail = (
                f"Stripe said the session {order.stripe_checkout_session_id} is paid "
                f"({order.stripe_checked_at:%Y-%m-%d %H:%M}), but the order is still pending."
            )
        else:
            detail = (
                f"Pending since {order.created_at:%Y-%m-%d %H:%M} and never reconciled with "
                f"Stripe (session {order.stripe_checkout_session_id})."
            )
        found.append(_order_anomaly("pending_paid_at_stripe", order, detail, order.created_at))
    return found


def refunds_without_reversal(*, now: datetime | None = None) -> list[Anomaly]:
    """Money given back to a fan that the ledger never reversed: the order
    records a refund but its settlement carries less in refunds."""
    now = now or timezone.now()
    ref = Concat(Value(ORDER_PREFIX), Cast("pk", CharField()), output_field=CharField())
    reversed_cents = (
        Refund.objects.filter(settlement__order_ref=OuterRef("ref"))
        .values("settlement__order_ref")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    orders = (
        Order.objects.filter(
            refunded_cents__gt=0,
            updated_at__lt=now - timedelta(minutes=settings.AUDIT_REFUND_GRACE_MINUTES),
        )
        .annotate(ref=ref)
        .annotate(settled=Exists(Settlement.objects.filter(order_ref=OuterRef("ref"))))
        .filter(settled=True)
        .annotate(reversed_cents=Coalesce(Subquery(reversed_cents), 0))
        .select_related("remix")
        .order_by("updated_at", "id")
    )
    return [
        _order_anomaly(
            "refund_without_reversal",
            order,
            f"{money_display(order.refunded_cents, order.currency)} refunded to the fan; the "
            f"ledger reversed {money_display(order.reversed_cents, order.currency)}.",
            order.refunded_at or order.updated_at,
        )
        for order in orders
        if order.reversed_cents < order.refunded_cents
    ]


def jobs_past_their_lease(*, now: datetime | None = None) -> list[Anomaly]:
    """Renders and separations still "running" well after their lease ran
    out: the jobs sweep should have taken them over (it is not running, or
    keeps failing)."""
    grace = timedelta(minutes=settings.AUDIT_LEASE_GRACE_MINUTES).total_seconds()
    late = jobs_past_lease(grace_seconds=grace)
    found = []
    for remix in late["remixes"]:
        found.append(
            Anomaly(
                kind="job_past_lease",
                subject=f"Render of remix #{remix.pk}",
                detail=f"Rendering at {remix.progress}%; the lease of {remix.lease_owner or '?'} "
                f"ran out {remix.lease_expires_at:%Y-%m-%d %H:%M} (attempt {remix.attempts}).",
                when=remix.lease_expires_at,
                evidence=[Evidence(f"Remix #{remix.pk} trail", remix_trail_url(remix.pk))],
                remix_id=remix.pk,
                recording_id=remix.recording_id,
            )
        )
    for stem_set in late["stem_sets"]:
        found.append(
            Anomaly(
                kind="job_past_lease",
                subject=f"Stem set #{stem_set.pk} ({stem_set.model_name})",
                detail=f"Separating at {stem_set.progress}%; the lease of "
                f"{stem_set.lease_owner or '?'} ran out {stem_set.lease_expires_at:%Y-%m-%d %H:%M}"
                f" (attempt {stem_set.attempts}).",
                when=stem_set.lease_expires_at,
                evidence=[Evidence(f"Stem set #{stem_set.pk}", record_url(stem_set))],
                recording_id=stem_set.recording_id,
            )
        )
    return found
