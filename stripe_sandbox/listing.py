"""List endpoints: Stripe's cursor pagination over newest-first collections."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .errors import StripeError, invalid
from .formparse import get_int, get_str, parse_created_filter
from .render import render

if TYPE_CHECKING:
    from .core import Ctx


def paginate(
    ctx: Ctx,
    items: Iterable[dict[str, Any]],
    params: dict[str, Any],
    url: str,
    *,
    renderer: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``items`` oldest first (storage order); responses are newest first like Stripe."""
    limit = get_int(params, "limit", minimum=1)
    if limit is None:
        limit = 10
    if limit > 100:
        raise invalid("This value must be less than or equal to 100.", param="limit")
    ordered = list(reversed(list(items)))
    created = parse_created_filter(params)
    if created is not None:
        ordered = [o for o in ordered if created(o.get("created", 0))]
    after = get_str(params, "starting_after")
    before = get_str(params, "ending_before")
    if after and before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after."
        )
    ids = [o["id"] for o in ordered]
    if after:
        if after not in ids:
            raise _bad_cursor(after, "starting_after")
        rest = ordered[ids.index(after) + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    elif before:
        if before not in ids:
            raise _bad_cursor(before, "ending_before")
        rest = ordered[: ids.index(before)]
        page, has_more = rest[-limit:], len(rest) > limit
    else:
        page, has_more = ordered[:limit], len(ordered) > limit
    draw = renderer or (lambda o: render(ctx.store, o))
    return {"object": "list", "data": [draw(o) for o in page], "has_more": has_more, "url": url}


def _bad_cursor(object_id: str, param: str) -> StripeError:
    return StripeError(
        400,
        "invalid_request_error",
        f"No such object: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def where(items: Iterable[dict[str, Any]], **equals: Any) -> list[dict[str, Any]]:
    """Filter by equality on the given fields, ignoring filters whose value is None."""
    active = {k: v for k, v in equals.items() if v is not None}
    return [o for o in items if all(o.get(k) == v for k, v in active.items())]
