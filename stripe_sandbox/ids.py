"""Stripe-style object ids (``cus_...``, ``cs_test_...``) and the prefix -> collection map."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits

# Collection names used by the store, keyed by the id prefix (text before the first "_").
# Expansion and ``Store.get`` use this to find any object from its id alone.
PREFIX_COLLECTION: dict[str, str] = {
    "cus": "customers",
    "prod": "products",
    "price": "prices",
    "cs": "checkout_sessions",
    "pi": "payment_intents",
    "ch": "charges",
    "re": "refunds",
    "sub": "subscriptions",
    "in": "invoices",
    "acct": "accounts",
    "tr": "transfers",
    "trr": "transfer_reversals",
    "evt": "events",
    "dp": "disputes",
    "txn": "balance_transactions",
    "pm": "payment_methods",
}

COLLECTIONS: tuple[str, ...] = tuple(PREFIX_COLLECTION.values())

# Lengths roughly match real ids so code that stores them in fixed columns keeps working.
_LENGTHS: dict[str, int] = {"cus": 14, "prod": 14, "acct": 16, "si": 14, "req": 14}


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str) -> str:
    if prefix == "cs":
        # Checkout Session ids carry the mode in the prefix and are long.
        return "cs_test_a1" + random_token(56)
    return f"{prefix}_{random_token(_LENGTHS.get(prefix, 24))}"


def collection_for(object_id: str) -> str | None:
    if not isinstance(object_id, str) or "_" not in object_id:
        return None
    return PREFIX_COLLECTION.get(object_id.split("_", 1)[0])
