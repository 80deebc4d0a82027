"""Hooks other apps subscribe to. Each is sent after the commit that caused it,
with ids only (receivers re-read what they need in their own transaction).

order_paid(sender=Order, order_id: int)
    A remix order was paid (Stripe said so through a webhook). The remix side
    re-checks remixability, then renders and publishes; if consent was revoked
    meanwhile it calls marketplace.billing.services.refunds.order_refund_full(order=...,
    reason=...). Royalties may post the settlement here too.
order_refunded(sender=Order, order_id: int, refunded_cents: int, reason: str)
    Our copy of the order saw (more) money go back to the fan.
order_disputed(sender=Order, order_id: int, dispute_status: str)
subscription_changed(sender=Subscription, subscription_id: int, user_id: int,
                     plan_code: str, status: str)
"""

from __future__ import annotations

from django.dispatch import Signal

order_paid = Signal()
order_refunded = Signal()
order_disputed = Signal()
subscription_changed = Signal()
