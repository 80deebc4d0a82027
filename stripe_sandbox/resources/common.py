"""Helpers shared by the resource modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import invalid, no_such
from ..formparse import get_dict
from ..render import render

if TYPE_CHECKING:
    from ..core import Ctx

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
CURRENCIES_ZERO_DECIMAL = {
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


def require(
    ctx: Ctx, object_id: str | None, kind: str, *, param: str = "id", status: int = 404
) -> dict[str, Any]:
    """The stored object or Stripe's ``No such <kind>`` error.

    Retrieving a missing object is a 404; a body parameter that names a missing object is a
    400 with ``param`` set -- pass ``status=400`` for those.
    """
    obj = ctx.store.get(object_id) if object_id else None
    expected = kind.replace(" ", "_")
    if obj is None or obj.get("object") != expected:
        raise no_such(kind, object_id or "", param=param, status=status)
    return obj


def rendered(ctx: Ctx, obj: dict[str, Any]) -> dict[str, Any]:
    return render(ctx.store, obj)


def parse_address(params: dict[str, Any], name: str = "address") -> dict[str, Any] | None:
    raw = get_dict(params, name)
    if not raw:
        return None
    unknown = set(raw) - set(ADDRESS_FIELDS)
    if unknown:
        bad = sorted(unknown)[0]
        raise invalid(f"Received unknown parameter: {name}[{bad}]", param=f"{name}[{bad}]")
    return {f: raw.get(f) or None for f in ADDRESS_FIELDS}


def empty_address() -> dict[str, Any]:
    return dict.fromkeys(ADDRESS_FIELDS)


def check_currency(value: str, param: str = "currency") -> str:
    currency = value.lower()
    if len(currency) != 3 or not currency.isalpha():
        raise invalid(
            f"Invalid currency: {value}. Currencies are three-letter ISO codes such as usd.",
            param=param,
        )
    return currency


def format_amount(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "jpy": "¥"}.get(
        currency, ""
    )
    if currency in CURRENCIES_ZERO_DECIMAL:
        text = f"{amount:,}"
    else:
        text = f"{amount / 100:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"
