"""Money display from integer minor units (cents): integer arithmetic only,
never float, never Decimal."""

from __future__ import annotations

SYMBOLS: dict[str, str] = {"usd": "$", "eur": "€", "gbp": "£"}

# ISO 4217 currencies Stripe treats as having no minor unit.
ZERO_DECIMAL: frozenset[str] = frozenset(
    {
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
)


def minor_units_text(cents: int, currency: str, *, grouped: bool = True) -> str:
    """The amount as a plain decimal ("-1,234.50", "500" for JPY), no currency."""
    amount = int(cents)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 100)
    if currency.lower() in ZERO_DECIMAL:
        return f"{sign}{abs(amount):,}" if grouped else f"{sign}{abs(amount)}"
    whole = f"{major:,}" if grouped else str(major)
    return f"{sign}{whole}.{minor:02d}"


def format_money(cents: int | None, currency: str, *, with_code: bool = False) -> str:
    """The one money formatter: "$1,234.50", "€7.50", "500 JPY".

    `with_code` names the currency by its code ("1,234.50 USD"), for ledgers
    and statements where amounts in several currencies sit side by side.
    """
    code = (currency or "").lower()
    text = minor_units_text(cents or 0, code)
    symbol = SYMBOLS.get(code)
    if with_code or not symbol:
        return f"{text} {code.upper()}".rstrip()
    if text.startswith("-"):
        return f"-{symbol}{text[1:]}"
    return f"{symbol}{text}"
