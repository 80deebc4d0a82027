"""Display of integer minor units. No floats: the split is string arithmetic."""

from __future__ import annotations

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}
ZERO_DECIMAL = {"jpy", "krw"}


def money_display(cents: int, currency: str) -> str:
    currency = currency.lower()
    symbol = SYMBOLS.get(currency, "")
    suffix = "" if symbol else f" {currency.upper()}"
    if currency in ZERO_DECIMAL:
        return f"{symbol}{cents:,}{suffix}"
    major, minor = divmod(int(cents), 100)
    return f"{symbol}{major:,}.{minor:02d}{suffix}"
