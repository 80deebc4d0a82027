"""Public handles: the rules, placeholders and tombstones (no Django imports).

A handle is how people are named in public (pages, API, file tags, exports);
the email address is a login and never public. Handles keep the case their
owner typed but are unique case-insensitively (a database constraint on
Lower(handle)), so "Frankie" and "frankie" are one name.
"""

from __future__ import annotations

import re
import secrets

HANDLE_MIN = 3
HANDLE_MAX = 30
HANDLE_RE = re.compile(r"^[A-Za-z0-9_]+$")
HANDLE_HELP = (
    f"{HANDLE_MIN} to {HANDLE_MAX} characters: letters, digits and underscores. "
    "Shown in public instead of your email address."
)

# Tombstones use hyphens, which a chosen handle never may, so they cannot clash.
TOMBSTONE_PREFIX = "deleted-user-"

# Names that would impersonate the site or its staff, or read as a route.
RESERVED = frozenset(
    {
        "abuse", "account", "accounts", "admin", "administrator", "anonymous", "api",
        "audit", "auditor", "billing", "catalog", "clearmix", "deleted", "help", "legal",
        "login", "logout", "mail", "me", "media", "moderator", "noreply", "no_reply",
        "null", "official", "payouts", "postmaster", "root", "security", "settings",
        "signup", "staff", "static", "studio", "support", "system", "undefined",
        "webmaster", "www",
    }
)  # fmt: skip
RESERVED_PREFIXES = ("clearmix", "deleted_user", "admin")

# What the database may hold (the admin edits through it): a chosen handle's
# shape, or a tombstone. Reserved words are for sign-ups; staff may use them.
STORED_HANDLE_RE = re.compile(
    rf"^(?:[A-Za-z0-9_]{{{HANDLE_MIN},{HANDLE_MAX}}}|{TOMBSTONE_PREFIX}[0-9]+)$"
)

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def handle_problem(handle: str) -> str | None:
    """Why this handle cannot be chosen, in plain words; None when it can."""
    if len(handle) < HANDLE_MIN:
        return f"A handle needs at least {HANDLE_MIN} characters."
    if len(handle) > HANDLE_MAX:
        return f"A handle can have at most {HANDLE_MAX} characters."
    if not HANDLE_RE.match(handle):
        return "Use only letters (a to z), digits and underscores in a handle."
    if handle.isdigit():
        return "A handle needs at least one letter."
    lowered = handle.lower()
    if lowered in RESERVED or lowered.startswith(RESERVED_PREFIXES):
        return "That handle is reserved. Please choose another."
    return None


def display_name_problem(name: str) -> str | None:
    """Display names are public: an email address must never hide in one."""
    if EMAIL_RE.search(name):
        return "A display name cannot contain an email address."
    return None


def placeholder_handle() -> str:
    """For accounts made without a chosen handle (admin, scripts, tests): random,
    so it says nothing about the person and almost never needs a retry."""
    return f"user_{secrets.token_hex(5)}"


def tombstone_handle(pk: int) -> str:
    return f"{TOMBSTONE_PREFIX}{pk}"
