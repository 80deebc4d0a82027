"""Billing: plans, subscriptions, paid remix orders and the Stripe webhook."""
