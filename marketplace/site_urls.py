"""Marketplace pages (browse, pricing, billing, my remixes, audit)."""

app_name = "marketplace"

urlpatterns: list = []
