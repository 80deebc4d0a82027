"""The one place royalties builds a Stripe client.

Always the real SDK; only the base address changes between Stripe and the
local sandbox (settings.STRIPE_API_BASE). Every POST made through it carries an
idempotency key that the caller derived from our own ids and saved first.
"""

from __future__ import annotations

import stripe
from django.conf import settings


def stripe_client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        api_key=settings.STRIPE_API_KEY,
        base_addresses={"api": base, "connect": base, "files": base},
        # Network errors are retried by the SDK with the same idempotency key.
        max_network_retries=2,
    )


def error_code(exc: Exception) -> str:
    """Stripe's machine-readable error code, or ''."""
    code = getattr(exc, "code", None)
    if not code:
        err = getattr(exc, "error", None)
        code = getattr(err, "code", None) if err is not None else None
    return code or ""


def is_definite_failure(exc: Exception) -> bool:
    """True when Stripe answered and refused (4xx): the request did nothing and
    the key is now spent. False for network errors and 5xx, where the request
    may have gone through: retry with the same key."""
    if isinstance(exc, stripe.APIConnectionError):
        return False
    status = getattr(exc, "http_status", None)
    return (
        status is not None
        and 400 <= int(status) < 500
        and int(status) != 409
        and int(status) != 429
    )
