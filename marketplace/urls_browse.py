"""Marketplace browse pages."""

urlpatterns: list = []
