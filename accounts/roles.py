"""Who may see what, by role: one owner for the checks every app makes.

Each takes any request user, anonymous included (AnonymousUser has none of
our role fields), so callers never reach for getattr with a default.
"""

from __future__ import annotations

from typing import Any


def user_is_auditor(user: Any) -> bool:
    """A signed-in staff auditor: reads every party, payout and trail."""
    return bool(getattr(user, "is_authenticated", False) and user.is_auditor)


def user_reads_everything(user: Any) -> bool:
    """Django staff or a staff auditor: may read any party's consent and stems."""
    return bool(getattr(user, "is_authenticated", False) and (user.is_staff or user.is_auditor))


def user_public_name(user: Any, *, fallback: str = "") -> str:
    """How a person is named in public (handle or display name), never the email."""
    return (getattr(user, "public_name", "") or "").strip() or fallback
