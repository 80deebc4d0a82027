"""Turn stored objects into response objects.

Stored objects keep references as ids; a few Stripe objects embed *lists* of
related objects (a payment intent's ``charges``, a charge's ``refunds``, a
transfer's ``reversals``). Those are computed here on every render so they can
never go stale, and every render is a deep copy so callers may mutate freely.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .state import Store


def sublist(url: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "has_more": False,
        "total_count": len(items),
        "url": url,
    }


def _newest_first(store: Store, collection: str, field: str, value: str) -> list[dict[str, Any]]:
    return [render(store, o) for o in reversed(store.all(collection)) if o.get(field) == value]


def _payment_intent(store: Store, obj: dict[str, Any]) -> None:
    obj["charges"] = sublist(
        f"/v1/charges?payment_intent={obj['id']}",
        _newest_first(store, "charges", "payment_intent", obj["id"]),
    )


def _charge(store: Store, obj: dict[str, Any]) -> None:
    obj["refunds"] = sublist(
        f"/v1/charges/{obj['id']}/refunds", _newest_first(store, "refunds", "charge", obj["id"])
    )


def _transfer(store: Store, obj: dict[str, Any]) -> None:
    obj["reversals"] = sublist(
        f"/v1/transfers/{obj['id']}/reversals",
        _newest_first(store, "transfer_reversals", "transfer", obj["id"]),
    )


_RENDERERS: dict[str, Callable[[Store, dict[str, Any]], None]] = {
    "payment_intent": _payment_intent,
    "charge": _charge,
    "transfer": _transfer,
}


def render(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    fill = _RENDERERS.get(out.get("object", ""))
    if fill:
        fill(store, out)
    return out


def render_id(store: Store, object_id: str) -> dict[str, Any] | None:
    obj = store.get(object_id)
    return None if obj is None else render(store, obj)
