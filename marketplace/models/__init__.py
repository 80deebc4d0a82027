"""Marketplace models, one module per purpose."""

from .accounts import User, UserManager
from .billing import BillingCustomer, Order, Plan, Subscription, SubscriptionCheckout
from .webhooks import WebhookEvent

__all__ = [
    "BillingCustomer",
    "Order",
    "Plan",
    "Subscription",
    "SubscriptionCheckout",
    "User",
    "UserManager",
    "WebhookEvent",
]
