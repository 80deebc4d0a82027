"""Pending orders reconciled against Stripe, not only by webhook.

A webhook can be lost (our endpoint down, Stripe giving up after its retries,
the sandbox killed mid-delivery). Stripe stays the source of truth, so pending
orders are asked about directly: the success page fetches its session, and the
delivery sweep retrieves the Checkout Session of every order pending for longer
than a few minutes and replays the events we never stored. Every answer is
applied through the same idempotent services as the webhook.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import stripe
from django.conf import settings
from django.utils import timezone

from marketplace.models import Order, Subscription, SubscriptionCheckout, WebhookEvent
from royalties.models import Payee

from .handlers import handlers_for
from .services.orders import order_checkout_expire
from .services.payments import order_mark_paid_from_stripe
from .services.subscription_checkout import (
    subscription_checkout_expire,
    subscription_checkout_link,
)
from .services.subscriptions import subscription_refresh
from .stripe_client import object_id, sget, stripe_client
from .webhooks import webhook_event_process

logger = logging.getLogger(__name__)

# Events we may have missed are looked for from a little before the newest
# one we stored: Stripe's clock and ours differ, and events of one second
# can arrive in any order.
EVENTS_OVERLAP = timedelta(minutes=10)
EVENTS_MAX_PAGES = 20


def reconcile_after() -> timedelta:
    return timedelta(seconds=settings.ORDER_RECONCILE_AFTER_SECONDS)


def order_reconcile(*, order: Order) -> Order:
    """Ask Stripe about one pending order and apply what it says.

    Paid at Stripe → marked paid (fulfilment follows, as for the webhook);
    expired → cancelled; still open → unchanged. Records when Stripe was
    asked and what it said, which the audit dashboard shows.
    """
    if order.status != Order.Status.PENDING or not order.stripe_checkout_session_id:
        return order
    session = stripe_client().v1.checkout.sessions.retrieve(order.stripe_checkout_session_id)
    said = f"{sget(session, 'status', default='')}/{sget(session, 'payment_status', default='')}"
    Order.objects.filter(pk=order.pk).update(
        stripe_checked_at=timezone.now(), stripe_session_status=said[:40]
    )
    if sget(session, "payment_status") == "paid":
        return order_mark_paid_from_stripe(session=session) or order
    if sget(session, "status") == "expired":
        return order_checkout_expire(session=session) or order
    order.refresh_from_db()
    return order


def order_reconcile_on_return(*, order: Order) -> Order:
    """The success page: ask Stripe at once instead of waiting for the webhook.
    Stripe unreachable is not the fan's problem: the page keeps waiting and the
    sweep asks again."""
    try:
        return order_reconcile(order=order)
    except stripe.StripeError:
        logger.warning("success page: Stripe did not answer for order %s", order.pk)
        return order


def subscription_checkout_reconcile(*, attempt: SubscriptionCheckout) -> SubscriptionCheckout:
    """Ask Stripe about a subscription Checkout we heard nothing of; apply it
    through the webhook's services (link, then the subscription itself)."""
    if attempt.stripe_subscription_id or not attempt.stripe_checkout_session_id:
        return attempt
    session = stripe_client().v1.checkout.sessions.retrieve(attempt.stripe_checkout_session_id)
    if sget(session, "status") == "complete":
        subscription_checkout_link(session=session)
        subscription_id = object_id(sget(session, "subscription"))
        if subscription_id:
            subscription_refresh(stripe_subscription_id=subscription_id)
    elif sget(session, "status") == "expired":
        subscription_checkout_expire(session=session)
    attempt.refresh_from_db()
    return attempt


def subscription_checkout_reconcile_on_return(*, user: Any, session_id: str) -> None:
    """The subscription success page: ask Stripe now (quietly, as for orders)."""
    attempt = SubscriptionCheckout.objects.filter(
        user=user, stripe_checkout_session_id=session_id
    ).first()
    if attempt is None:
        return
    try:
        subscription_checkout_reconcile(attempt=attempt)
    except stripe.StripeError:
        logger.warning("success page: Stripe did not answer for checkout %s", attempt.pk)


def order_list_pending_stale(*, now=None, limit: int = 200) -> list[Order]:
    now = now or timezone.now()
    return list(
        Order.objects.filter(
            status=Order.Status.PENDING,
            created_at__lt=now - reconcile_after(),
        )
        .exclude(stripe_checkout_session_id__isnull=True)
        .exclude(stripe_checkout_session_id="")
        .order_by("created_at")[:limit]
    )


def orders_reconcile_pending(*, now=None) -> dict[str, int]:
    """The sweep's Stripe half: stale pending orders, then missed events."""
    counts = {"reconciled_paid": 0, "reconciled_expired": 0, "reconcile_errors": 0}
    for order in order_list_pending_stale(now=now):
        try:
            after = order_reconcile(order=order)
        except stripe.StripeError:
            logger.exception("could not reconcile order %s with Stripe", order.pk)
            counts["reconcile_errors"] += 1
            continue
        if after.paid_at is not None:
            counts["reconciled_paid"] += 1
        elif after.status == Order.Status.CANCELLED:
            counts["reconciled_expired"] += 1
    counts["subscriptions_reconciled"] = _subscription_checkouts_reconcile(now=now)
    try:
        counts["events_replayed"] = events_catch_up(now=now)
    except stripe.StripeError:
        logger.exception("could not list Stripe events")
        counts["reconcile_errors"] += 1
    return counts


def _subscription_checkouts_reconcile(*, now=None) -> int:
    now = now or timezone.now()
    stale = SubscriptionCheckout.objects.filter(
        status__in=(SubscriptionCheckout.Status.CREATED, SubscriptionCheckout.Status.OPEN),
        stripe_subscription_id="",
        created_at__lt=now - reconcile_after(),
        created_at__gt=now - timedelta(days=2),  # Stripe expires sessions after 24 h
    ).exclude(stripe_checkout_session_id__isnull=True)
    done = 0
    for attempt in stale.order_by("created_at")[:200]:
        try:
            done += bool(subscription_checkout_reconcile(attempt=attempt).stripe_subscription_id)
        except stripe.StripeError:
            logger.exception("could not reconcile subscription checkout %s", attempt.pk)
    return done


def _events_since() -> int | None:
    newest = (
        WebhookEvent.objects.exclude(stripe_created__isnull=True)
        .order_by("-stripe_created")
        .values_list("stripe_created", flat=True)
        .first()
    )
    return int((newest - EVENTS_OVERLAP).timestamp()) if newest else None


def _events_listed(*, since: int, until: int) -> list[Any]:
    params: dict[str, Any] = {"limit": 100, "created": {"gte": since, "lte": until}}
    found, page = [], stripe_client().v1.events.list(params=params)
    for _ in range(EVENTS_MAX_PAGES):
        found.extend(page.data)
        if not page.has_more or not page.data:
            break
        params["starting_after"] = page.data[-1].id
        page = stripe_client().v1.events.list(params=params)
    return list(reversed(found))  # oldest first, as Stripe would have delivered them


def _ids_ours(events: list[Any]) -> set[str]:
    """Which of the Stripe ids these events talk about belong to our records.
    A Stripe account may carry other integrations' events (or another
    staging database's): only ours are replayed."""
    ids: set[str] = set()
    for event in events:
        obj = sget(event, "data", "object")
        ids.update(
            filter(None, (object_id(obj), object_id(sget(obj, "charge")), sget(obj, "account")))
        )
        ids.add(object_id(sget(obj, "payment_intent")))
    ids.discard("")
    found: set[str] = set()
    for model, fields in (
        (Order, ("stripe_checkout_session_id", "stripe_charge_id", "stripe_payment_intent_id")),
        (SubscriptionCheckout, ("stripe_checkout_session_id",)),
        (Subscription, ("stripe_subscription_id",)),
        (Payee, ("stripe_account_id",)),
    ):
        for name in fields:
            found.update(model.objects.filter(**{f"{name}__in": ids}).values_list(name, flat=True))
    return found


def _is_ours(event: Any, ours: set[str]) -> bool:
    obj = sget(event, "data", "object")
    candidates = (
        object_id(obj),
        object_id(sget(obj, "charge")),
        object_id(sget(obj, "payment_intent")),
        sget(obj, "account") or "",
    )
    return any(c and c in ours for c in candidates)


def _events_missed(since: int | None, now) -> list[Any]:
    if since is None:
        return []  # nothing was ever received: nothing to catch up on
    # Events younger than the reconcile delay may still arrive by webhook.
    until = int((now - reconcile_after()).timestamp())
    if until < since:
        return []
    listed = [e for e in _events_listed(since=since, until=until) if handlers_for(e.type)]
    done = set(
        WebhookEvent.objects.filter(
            stripe_event_id__in=[e.id for e in listed], status__in=WebhookEvent.DONE
        ).values_list("stripe_event_id", flat=True)
    )
    fresh = [e for e in listed if e.id not in done]
    ours = _ids_ours(fresh)
    return [e for e in fresh if _is_ours(e, ours)]


def events_catch_up(*, now=None) -> int:
    """Run the events Stripe has and we never processed through the webhook
    pipeline (stored once by id, so a late webhook of the same event is a
    duplicate). Listed over Stripe's authenticated API, so no signature."""
    replayed = 0
    for event in _events_missed(_events_since(), now or timezone.now()):
        payload = json.dumps(event.to_dict(for_json=True)).encode()
        try:
            webhook_event_process(event=event, payload=payload)
        except Exception:  # recorded on the event's row; the next sweep retries
            logger.exception("replaying Stripe event %s failed", event.id)
            continue
        replayed += 1
    return replayed
