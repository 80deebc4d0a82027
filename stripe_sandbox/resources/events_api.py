"""``GET /v1/events`` and ``GET /v1/events/{id}``."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from ..formparse import get_list, get_str
from ..listing import paginate
from ..router import api
from .common import rendered, require

if TYPE_CHECKING:
    from ..core import Ctx


@api("GET", "/v1/events")
def list_events(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = ctx.store.all("events")
    if ctx.account:
        # With a Stripe-Account header, only that connected account's events.
        items = [e for e in items if e.get("account") == ctx.account]
    type_filter = get_str(params, "type")
    if type_filter:
        # Stripe supports one trailing/inner wildcard, e.g. "charge.*".
        items = [e for e in items if fnmatch.fnmatchcase(e["type"], type_filter)]
    types = [str(t) for t in get_list(params, "types")]
    if types:
        items = [e for e in items if e["type"] in types]
    return paginate(ctx, items, params, "/v1/events")


@api("GET", "/v1/events/{id}")
def retrieve_event(ctx: Ctx, params: dict[str, Any], id: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, id, "event"))
