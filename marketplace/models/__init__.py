"""Marketplace models, one module per purpose."""

from .accounts import User, UserManager
from .audit import CheckRun
from .billing import BillingCustomer, Order, Plan, Subscription, SubscriptionCheckout
from .webhooks import WebhookEvent

__all__ = [
    "BillingCustomer",
    "CheckRun",
    "Order",
    "Plan",
    "Subscription",
    "SubscriptionCheckout",
    "User",
    "UserManager",
    "WebhookEvent",
]
