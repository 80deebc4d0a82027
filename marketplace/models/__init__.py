"""Marketplace models, one module per purpose."""

from .audit import CheckRun
from .billing import BillingCustomer, Order, Plan, Subscription, SubscriptionCheckout
from .discovery import Follow, Notice, RemixLike, RemixWeeklyPlay
from .webhooks import WebhookEvent

__all__ = [
    "BillingCustomer",
    "CheckRun",
    "Follow",
    "Notice",
    "Order",
    "Plan",
    "RemixLike",
    "RemixWeeklyPlay",
    "Subscription",
    "SubscriptionCheckout",
    "WebhookEvent",
]
