"""The one place that builds a Stripe client.

Settings are read on every call (not at import) so tests and the sandbox can
point the SDK elsewhere; clients are cached per (key, base) because building one
is not free and they are thread-safe.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings

from core.errors import DomainError

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_clients: dict[tuple, stripe.StripeClient] = {}


def stripe_client() -> stripe.StripeClient:
    # Every setting the client is built from: a changed timeout or retry count
    # (settings overridden in a test) gets a client that honours it.
    key = (
        settings.STRIPE_API_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_TIMEOUT_SECONDS,
    )
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = stripe.StripeClient(
                settings.STRIPE_API_KEY,
                base_addresses={"api": settings.STRIPE_API_BASE},
                # Safe because every POST carries our own idempotency key.
                max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
                # Stripe away: the call fails in bounded time, never hangs.
                http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
            )
            _clients[key] = client
    return client


def idempotency_key(kind: str, pk: int | str) -> str:
    """A key for one POST about one of our rows: our id plus a random suffix.

    The suffix keeps keys unique when ids are reused (a reset database, tests,
    staging against the same Stripe account), where a bare id would replay
    another record's request. Callers save the key on the row *before* the
    call and reuse it on retry, which is what makes the POST idempotent.
    """
    return f"clearmix-{kind}-{pk}-{uuid.uuid4().hex[:12]}"


def idempotent(key: str) -> dict[str, Any]:
    """Request options for a POST; `key` must come from one of our rows."""
    if not key:
        raise ValueError("Every POST to Stripe needs an idempotency key.")
    return {"idempotency_key": key}


def sget(obj: Any, *path: str, default: Any = None) -> Any:
    """Read a nested field from a StripeObject or dict, tolerating API versions."""
    current = obj
    for name in path:
        if current is None:
            return default
        if isinstance(current, dict):
            current = current.get(name)
        else:
            try:
                current = current[name]
            except (KeyError, TypeError, AttributeError):
                current = getattr(current, name, None)
    return default if current is None else current


def object_id(value: Any) -> str:
    """An expandable field is either an id or an object; give the id."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(sget(value, "id", default=""))


def stripe_time(value: Any) -> datetime | None:
    """A Stripe timestamp (seconds since the epoch) as an aware datetime."""
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def payment_provider_error(exc: stripe.StripeError) -> DomainError:
    """What a fan is told when a call to Stripe fails (logged for staff)."""
    logger.warning("Stripe call failed: %s", exc)
    return DomainError(
        "Our payment provider could not be reached. Nothing was charged; please try again.",
        code="payment_provider_error",
        status_code=502,
    )
