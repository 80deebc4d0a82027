"""The shapes every trail builder returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class TrailItem:
    when: datetime | None
    category: str  # consent, split, recipe, job, order, payment, settlement, ...
    title: str
    detail: str = ""
    status: str = "muted"  # ok / bad / warn / muted, for the badge
    status_label: str = ""
    url: str | None = None
    link_label: str = ""


def money_text(cents: int, currency: str) -> str:
    """Ledger amounts as the trail has always shown them: "12.34 USD"."""
    major, minor = divmod(int(cents), 100)
    sign = "-" if cents < 0 else ""
    if cents < 0:
        major, minor = divmod(-int(cents), 100)
    return f"{sign}{major:,}.{minor:02d} {currency.upper()}"
