"""Marketplace views, one module per area."""
