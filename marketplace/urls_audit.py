"""Marketplace audit pages."""

urlpatterns: list = []
