"""Marketplace billing pages and the one Stripe webhook endpoint."""

from django.urls import path

from .views import billing, webhooks

urlpatterns: list = [
    path("pricing/", billing.pricing, name="pricing"),
    path("billing/", billing.billing, name="billing"),
    path("billing/subscribe/<slug:plan_code>/", billing.subscribe, name="subscribe"),
    path("billing/checkout/success/", billing.checkout_success, name="checkout_success"),
    path("billing/checkout/status/", billing.checkout_status, name="checkout_status"),
    path("billing/checkout/cancelled/", billing.checkout_cancelled, name="checkout_cancelled"),
    path(
        "billing/subscriptions/<int:subscription_id>/cancel/",
        billing.subscription_cancel_toggle,
        name="subscription_cancel_toggle",
    ),
    path("billing/remixes/<int:remix_id>/buy/", billing.order_start, name="order_start"),
    path("billing/orders/return/", billing.order_return, name="order_return"),
    path("billing/orders/<int:order_id>/", billing.order_detail, name="order_detail"),
    path("billing/webhooks/", billing.webhook_events, name="webhook_events"),
    path("stripe/webhook", webhooks.stripe_webhook, name="stripe_webhook"),
]
