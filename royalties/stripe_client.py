"""The one place royalties builds a Stripe client.

Always the real SDK; only the base address changes between Stripe and the
local sandbox (settings.STRIPE_API_BASE). Every POST made through it carries an
idempotency key that the caller derived from our own ids and saved first.
"""

from __future__ import annotations

import uuid
from typing import Any

import stripe
from django.conf import settings


def stripe_client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        api_key=settings.STRIPE_API_KEY,
        base_addresses={"api": base, "connect": base, "files": base},
        # Network errors are retried by the SDK with the same idempotency key.
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        # Stripe away: the call fails in bounded time, never hangs.
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
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


def idempotency_suffix() -> str:
    """A random tail for idempotency keys built from row ids.

    Row ids repeat when a database is reset against the same Stripe account
    (staging, tests): a bare id would replay another row's request. Each key is
    saved on its row before the call and reused on retry, so the suffix costs
    no idempotency."""
    return uuid.uuid4().hex[:12]


def stripe_value(obj: Any, key: str, default: Any = None) -> Any:
    """`obj[key]` for a Stripe object or a plain dict (webhook payloads come as
    either), `default` when absent."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    try:
        return obj[key]
    except (KeyError, TypeError, AttributeError):
        return getattr(obj, key, default)
