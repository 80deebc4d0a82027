"""Marketplace billing pages."""

urlpatterns: list = []
