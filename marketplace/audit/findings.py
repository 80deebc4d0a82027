"""What an anomaly finder returns: the offending row, why, and the evidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Evidence:
    label: str
    url: str | None


@dataclass
class Anomaly:
    kind: str
    subject: str
    detail: str
    when: datetime | None = None
    evidence: list[Evidence] = field(default_factory=list)
    # For search and exports: the ids an auditor filters by.
    remix_id: int | None = None
    recording_id: int | None = None
    party_ids: list[int] = field(default_factory=list)
    amount_cents: int | None = None
    currency: str = ""
    # A failed transfer staff may retry from the list.
    transfer_id: int | None = None


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    description: str
    severity: str  # "bad" (a broken promise) or "warn" (money waiting)
    finder: Callable[[], list[Anomaly]]
