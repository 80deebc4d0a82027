"""Hosted HTML pages.

Checkout lives at ``/pay/<cs_id>``, Connect onboarding at ``/connect/onboard/<token>``.
"""
