"""Plans, subscriptions and paid remix orders.

Stripe is the source of truth for money and subscription state; these rows are
our copy of it, moved only by webhooks (or Stripe's own API answers), never by a
browser redirect. Every POST to Stripe uses an idempotency key derived from one
of these rows and saved on it before the call.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.money import format_money


class Plan(models.Model):
    """A recurring plan sold through Stripe Billing (synced by stripe_sync_catalog)."""

    class Code(models.TextChoices):
        PREMIUM = "premium", "Premium"
        REMIX_ADDON = "remix_addon", "Remix add-on"

    code = models.CharField(max_length=32, choices=Code.choices, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=8, default="month")
    # Stripe's lookup_key lets the sync find the price again without our ids.
    lookup_key = models.CharField(max_length=64, unique=True)
    stripe_product_id = models.CharField(max_length=64, blank=True)
    stripe_price_id = models.CharField(max_length=64, blank=True, db_index=True)
    requires = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="required_by"
    )
    sort_order = models.PositiveSmallIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="plan_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def price_display(self) -> str:
        return format_money(self.amount_cents, self.currency)


class BillingCustomer(models.Model):
    """One Stripe Customer per user, created once (idempotency key saved first)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="billing_customer"
    )
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="billing_customer_stripe_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.stripe_customer_id or 'not created'})"


class SubscriptionCheckout(models.Model):
    """One attempt to subscribe through Checkout: what the success page polls."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscription_checkouts"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="checkouts")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    idempotency_key = models.CharField(max_length=128, unique=True, null=True, blank=True)
    stripe_checkout_session_id = models.CharField(
        max_length=128, unique=True, null=True, blank=True
    )
    checkout_url = models.URLField(max_length=2000, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.plan} checkout for {self.user} ({self.status})"


class Subscription(models.Model):
    """Our copy of a Stripe Subscription, one plan per subscription."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete (expired)"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Canceled"
        PAUSED = "paused", "Paused"

    ENTITLING = frozenset({Status.ACTIVE, Status.TRIALING})
    # Stripe never revives these; a late event must not either.
    TERMINAL = frozenset({Status.CANCELED, Status.INCOMPLETE_EXPIRED})

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    stripe_subscription_id = models.CharField(max_length=64, unique=True)
    stripe_customer_id = models.CharField(max_length=64)
    status = models.CharField(max_length=24, choices=Status.choices)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    # The Stripe event (or API answer) time our copy reflects; older data is ignored.
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    # Bumped before each update POST so each change gets a fresh idempotency key.
    change_seq = models.PositiveIntegerField(default=0)
    last_idempotency_key = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "plan", "status"])]

    def __str__(self) -> str:
        return f"{self.plan} for {self.user}: {self.status}"

    @property
    def is_entitling(self) -> bool:
        return self.status in self.ENTITLING


class Order(models.Model):
    """A paid remix export. Money fields are frozen once paid (DB trigger)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        PAID = "paid", "Paid"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        DISPUTED = "disputed", "Disputed"
        CANCELLED = "cancelled", "Cancelled"

    # A remix has at most one order that is not over (cancelled or fully refunded).
    LIVE = (Status.PENDING, Status.PAID, Status.PARTIALLY_REFUNDED, Status.DISPUTED)

    fan = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    # PROTECT: a paid remix's order is financial history and must outlive it.
    remix = models.ForeignKey("remixing.Remix", on_delete=models.PROTECT, related_name="orders")
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    transfer_group = models.CharField(max_length=64)

    idempotency_key = models.CharField(max_length=128, unique=True, null=True, blank=True)
    stripe_checkout_session_id = models.CharField(
        max_length=128, unique=True, null=True, blank=True
    )
    checkout_url = models.URLField(max_length=2000, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_charge_id = models.CharField(max_length=64, blank=True, db_index=True)

    refunded_cents = models.PositiveIntegerField(default=0)
    refund_reason = models.TextField(blank=True, help_text="Shown to the fan.")
    refund_idempotency_key = models.CharField(max_length=128, blank=True)
    stripe_refund_id = models.CharField(max_length=64, blank=True)
    stripe_dispute_id = models.CharField(max_length=64, blank=True)
    dispute_status = models.CharField(max_length=32, blank=True)
    dispute_state_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # When its split was posted to the ledger (set in the same transaction as
    # the settlement): paid orders without it are the settling queue.
    settled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The last time a pending order's Checkout Session was asked for at Stripe
    # (success page or sweep) and what it said ("complete/paid", "open/unpaid").
    stripe_checked_at = models.DateTimeField(null=True, blank=True)
    stripe_session_status = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="order_status_created"),
            # The settling queue, oldest payment first (a partial index: it
            # holds only the orders waiting, however long the history).
            models.Index(
                fields=["paid_at", "id"],
                name="order_unsettled",
                condition=Q(
                    paid_at__isnull=False,
                    settled_at__isnull=True,
                    status__in=["paid", "partially_refunded", "disputed"],
                ),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="order_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("amount_cents")),
                name="order_refund_within_amount",
            ),
            models.UniqueConstraint(
                fields=["remix"],
                condition=Q(status__in=["pending", "paid", "partially_refunded", "disputed"]),
                name="order_one_live_per_remix",
            ),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk} remix {self.remix_id} ({self.status})"

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    @property
    def amount_display(self) -> str:
        return format_money(self.amount_cents, self.currency)

    @property
    def refunded_display(self) -> str:
        return format_money(self.refunded_cents, self.currency)
