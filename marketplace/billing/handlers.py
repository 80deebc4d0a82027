"""Every Stripe webhook handler, in one table keyed by event type.

A handler is a `WebhookHandler`: `fetch(event)` reads whatever it needs from
Stripe and runs before any transaction opens; `apply(event, fetched)` writes,
inside the one transaction that also marks the event processed. Handlers for
one type run in table order. Marketplace's own handlers (subscriptions, remix
orders) are here; the money and Connect handlers belong to royalties and are
listed from `royalties.webhooks`, wrapped so that an event about an order not
yet settled settles it first.

Subscriptions and disputes are re-fetched from Stripe on every related event,
so whatever order events arrive in, our copy converges on Stripe's current
state. Orders only move forward (pending → paid → refunded/disputed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace.billing.fulfilment import royalties_event_apply
from royalties import webhooks as royalty_webhooks

from .services.orders import order_checkout_expire
from .services.payments import order_mark_paid, order_payment_fetch
from .services.refunds import (
    order_charge_refunded,
    order_dispute_apply_fetched,
    order_dispute_fetch,
)
from .services.subscription_checkout import (
    subscription_checkout_expire,
    subscription_checkout_link,
)
from .services.subscriptions import subscription_apply_fetched, subscription_fetch
from .stripe_client import object_id, sget

Event = Any  # a stripe.Event, or its dict form


def fetch_nothing(event: Event) -> None:
    return None


@dataclass(frozen=True)
class WebhookHandler:
    apply: Callable[[Event, Any], object]
    fetch: Callable[[Event], Any] = fetch_nothing
    label: str = ""

    @property
    def name(self) -> str:
        """Recorded on the event's row: which code handled it."""
        return self.label or f"{self.apply.__module__}.{self.apply.__qualname__}"


# --- checkout.session.* ------------------------------------------------------------


def _session(event: Event) -> Any:
    return sget(event, "data", "object")


def _session_subscription_id(event: Event) -> str:
    return object_id(sget(_session(event), "subscription"))


def checkout_completed_fetch(event: Event) -> Any:
    session = _session(event)
    mode = sget(session, "mode")
    if mode == "subscription" and _session_subscription_id(event):
        return subscription_fetch(stripe_subscription_id=_session_subscription_id(event))
    if mode == "payment":
        return order_payment_fetch(session=session)
    return None


def checkout_completed_apply(event: Event, fetched: Any) -> None:
    session = _session(event)
    mode = sget(session, "mode")
    if mode == "subscription":
        subscription_checkout_link(session=session)
        if fetched is not None:
            subscription_apply_fetched(fetched=fetched)
    elif mode == "payment":
        order_mark_paid(session=session, payment=fetched)


def checkout_expired_apply(event: Event, fetched: None) -> None:
    session = _session(event)
    if sget(session, "mode") == "subscription":
        subscription_checkout_expire(session=session)
    else:
        order_checkout_expire(session=session)


# --- customer.subscription.* and invoice.* -------------------------------------------


def _subscription_id(event: Event) -> str:
    obj = sget(event, "data", "object")
    if sget(obj, "object") != "invoice":
        return object_id(obj)
    return object_id(sget(obj, "subscription")) or object_id(
        sget(obj, "parent", "subscription_details", "subscription")
    )


def subscription_event_fetch(event: Event) -> Any:
    subscription_id = _subscription_id(event)
    return subscription_fetch(stripe_subscription_id=subscription_id) if subscription_id else None


def subscription_event_apply(event: Event, fetched: Any) -> None:
    if fetched is not None:
        subscription_apply_fetched(fetched=fetched)


# --- charge.* ----------------------------------------------------------------------------


def charge_refunded_apply(event: Event, fetched: None) -> None:
    order_charge_refunded(charge=sget(event, "data", "object"))


def dispute_fetch(event: Event) -> Any:
    # Re-fetched, like subscriptions: the event's copy may be older than what
    # we already applied (a closed event overtaken by its created event).
    return order_dispute_fetch(stripe_dispute_id=object_id(sget(event, "data", "object")))


def dispute_apply(event: Event, fetched: Any) -> None:
    order_dispute_apply_fetched(fetched=fetched)


# --- royalties ---------------------------------------------------------------------------


def royalties_handler(event_type: str, handler: Callable[..., object]) -> WebhookHandler:
    """A royalties handler as a table entry: its fetcher (if it has one)
    before the transaction, the handler inside it."""
    fetch = royalty_webhooks.FETCHERS.get(event_type)

    def apply(event: Event, fetched: Any) -> None:
        if fetch is None:
            royalties_event_apply(event=event, apply=lambda: handler(event))
        else:
            royalties_event_apply(event=event, apply=lambda: handler(event, fetched=fetched))

    return WebhookHandler(
        apply=apply,
        fetch=fetch or fetch_nothing,
        label=f"{handler.__module__}.{handler.__qualname__}",
    )


CHECKOUT_COMPLETED = WebhookHandler(apply=checkout_completed_apply, fetch=checkout_completed_fetch)
SUBSCRIPTION_CHANGED = WebhookHandler(
    apply=subscription_event_apply, fetch=subscription_event_fetch
)
DISPUTE_CHANGED = WebhookHandler(apply=dispute_apply, fetch=dispute_fetch)

MARKETPLACE_HANDLERS: dict[str, tuple[WebhookHandler, ...]] = {
    "checkout.session.completed": (CHECKOUT_COMPLETED,),
    "checkout.session.async_payment_succeeded": (CHECKOUT_COMPLETED,),
    "checkout.session.expired": (WebhookHandler(apply=checkout_expired_apply),),
    "customer.subscription.created": (SUBSCRIPTION_CHANGED,),
    "customer.subscription.updated": (SUBSCRIPTION_CHANGED,),
    "customer.subscription.deleted": (SUBSCRIPTION_CHANGED,),
    "customer.subscription.paused": (SUBSCRIPTION_CHANGED,),
    "customer.subscription.resumed": (SUBSCRIPTION_CHANGED,),
    "invoice.paid": (SUBSCRIPTION_CHANGED,),
    "invoice.payment_succeeded": (SUBSCRIPTION_CHANGED,),
    "invoice.payment_failed": (SUBSCRIPTION_CHANGED,),
    "charge.refunded": (WebhookHandler(apply=charge_refunded_apply),),
    "charge.dispute.created": (DISPUTE_CHANGED,),
    "charge.dispute.updated": (DISPUTE_CHANGED,),
    "charge.dispute.closed": (DISPUTE_CHANGED,),
}


def _handler_table() -> dict[str, tuple[WebhookHandler, ...]]:
    # Marketplace's handlers first: the order's own state before the money.
    table = dict(MARKETPLACE_HANDLERS)
    for event_type, handler in royalty_webhooks.HANDLERS.items():
        table[event_type] = (*table.get(event_type, ()), royalties_handler(event_type, handler))
    return table


HANDLERS: dict[str, tuple[WebhookHandler, ...]] = _handler_table()


def handlers_for(event_type: str) -> tuple[WebhookHandler, ...]:
    return HANDLERS.get(event_type, ())
