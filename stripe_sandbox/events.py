"""Event creation: every state change goes through :func:`emit`.

``data.object`` is a deep snapshot taken at emission time (Stripe events are
immutable), ``previous_attributes`` is a nested diff of what changed.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .config import API_VERSION
from .ids import new_id

if TYPE_CHECKING:
    from .core import Ctx

_MISSING = object()


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Old values of everything that changed; nested dicts are diffed recursively like Stripe."""
    changed: dict[str, Any] = {}
    for key in before.keys() | after.keys():
        old = before.get(key, _MISSING)
        new = after.get(key, _MISSING)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and old.get("object") != "list":
            sub = diff(old, new)
            if sub:
                changed[key] = sub
        else:
            changed[key] = None if old is _MISSING else copy.deepcopy(old)
    return changed


def emit(
    ctx: Ctx,
    event_type: str,
    obj: dict[str, Any],
    previous: dict[str, Any] | None = None,
    *,
    account: str | None = None,
) -> dict[str, Any]:
    """Record an event and schedule its webhook deliveries (after the request commits)."""
    store = ctx.store
    endpoints = ctx.sandbox.deliverer.endpoints_for(account)
    event: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": store.now(),
        "data": {"object": copy.deepcopy(obj)},
        "livemode": False,
        "pending_webhooks": len(endpoints),
        "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
        "type": event_type,
    }
    if account is not None:
        # Connect events say which connected account they happened on.
        event["account"] = account
    if previous:
        event["data"]["previous_attributes"] = previous
    store.insert(event)
    ctx.emitted.append((event["id"], event_type, account))
    return event
