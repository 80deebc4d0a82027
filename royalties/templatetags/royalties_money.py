"""Money formatting from integer minor units (no float, no Decimal)."""

from __future__ import annotations

from django import template

register = template.Library()

ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}


def format_minor(cents: int, currency: str = "usd") -> str:
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    n = abs(cents)
    cur = (currency or "").lower()
    if cur in ZERO_DECIMAL:
        return f"{sign}{n:,} {cur.upper()}"
    return f"{sign}{n // 100:,}.{n % 100:02d} {cur.upper()}".rstrip()


@register.filter
def money(cents, currency="usd"):
    return format_minor(cents, currency)


@register.filter
def bps_percent(bps):
    bps = int(bps or 0)
    return f"{bps // 100}.{bps % 100:02d}%"
