"""Reference formats and error codes shared across apps: built here, parsed
here, nowhere else.

A settlement is keyed by its order ("order_42") and names its remix
("remix_7"); the remix reference is also the Stripe Connect transfer_group.
"""

from __future__ import annotations

ORDER_PREFIX = "order_"
REMIX_PREFIX = "remix_"

# The error code royalties raises when a charge has no settlement yet; the
# marketplace's webhook handling reacts to it.
SETTLEMENT_MISSING = "settlement_missing"
# The error code of a refusal because the track may no longer be remixed
# (remixing and billing raise it; fulfilment refunds on it).
NOT_REMIXABLE = "not_remixable"


def order_ref(pk: int) -> str:
    return f"{ORDER_PREFIX}{pk}"


def remix_ref(pk: int) -> str:
    return f"{REMIX_PREFIX}{pk}"


def _parse(ref: str, prefix: str) -> int | None:
    if not ref.startswith(prefix):
        return None
    digits = ref[len(prefix) :]
    if not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


def parse_order_ref(ref: str) -> int | None:
    """The order's pk, or None when `ref` is not an order reference."""
    return _parse(ref, ORDER_PREFIX)


def parse_remix_ref(ref: str) -> int | None:
    """The remix's pk, or None when `ref` is not a remix reference."""
    return _parse(ref, REMIX_PREFIX)
