"""Admin: billing copies of Stripe state, webhook events (users: accounts.admin).

Billing rows mirror Stripe; editing them by hand would desynchronise us, so
money and Stripe fields are read-only here (changes go through Stripe).
"""

from __future__ import annotations

from django.contrib import admin

from .models import (
    BillingCustomer,
    Order,
    Plan,
    Subscription,
    SubscriptionCheckout,
    WebhookEvent,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "amount_cents",
        "currency",
        "lookup_key",
        "stripe_price_id",
        "synced_at",
    ]
    readonly_fields = [
        "lookup_key",
        "stripe_product_id",
        "stripe_price_id",
        "synced_at",
        "amount_cents",
        "currency",
    ]


@admin.register(BillingCustomer)
class BillingCustomerAdmin(admin.ModelAdmin):
    list_display = ["user", "stripe_customer_id", "created_at"]
    search_fields = ["user__email", "stripe_customer_id"]
    readonly_fields = ["user", "stripe_customer_id", "idempotency_key", "created_at"]


@admin.register(SubscriptionCheckout)
class SubscriptionCheckoutAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "plan", "status", "stripe_checkout_session_id", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["user__email", "stripe_checkout_session_id", "stripe_subscription_id"]
    readonly_fields = [f.name for f in SubscriptionCheckout._meta.fields]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "plan",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "updated_at",
    ]
    list_filter = ["status", "plan", "cancel_at_period_end"]
    search_fields = ["user__email", "stripe_subscription_id", "stripe_customer_id"]
    readonly_fields = [f.name for f in Subscription._meta.fields]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "fan",
        "remix_id",
        "amount_cents",
        "currency",
        "status",
        "paid_at",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = [
        "fan__email",
        "remix_id",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "stripe_charge_id",
    ]
    readonly_fields = [f.name for f in Order._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = [
        "stripe_event_id",
        "type",
        "status",
        "attempts",
        "duplicates",
        "received_at",
        "processed_at",
    ]
    list_filter = ["status", "type", "livemode"]
    search_fields = ["stripe_event_id", "type", "object_id"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    date_hierarchy = "received_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewable, never editable: the row is the audit trail of what Stripe sent.
        return False
