"""Template filters for money (core's one formatter) and shares in basis points."""

from __future__ import annotations

from django import template

from core.money import format_money
from royalties.requirements import requirement_labels

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "usd") -> str:
    """Amounts on payout pages name their currency by code ("12.99 USD")."""
    return format_money(cents, currency, with_code=True)


@register.filter
def bps_percent(bps):
    bps = int(bps or 0)
    return f"{bps // 100}.{bps % 100:02d}%"


@register.filter
def requirements_in_words(keys) -> list[str]:
    """Stripe's requirement keys as the things a person must provide."""
    return requirement_labels(keys or [])
