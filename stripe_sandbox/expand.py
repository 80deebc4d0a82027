"""``expand[]`` support: replace id references with the objects they point to.

Works generically from the id prefix (``pi_`` -> payment intent), follows dotted
paths (``payment_intent.latest_charge``), fans out over ``data.`` on lists, and
lets resources register *virtual* fields that exist only when expanded (a
Checkout Session's ``line_items``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import invalid
from .render import render_id

if TYPE_CHECKING:
    from .core import Ctx

MAX_DEPTH = 4

VirtualField = Callable[["Ctx", dict[str, Any]], Any]
_VIRTUAL: dict[tuple[str, str], VirtualField] = {}


def virtual(object_type: str, field: str) -> Callable[[VirtualField], VirtualField]:
    def decorator(fn: VirtualField) -> VirtualField:
        _VIRTUAL[(object_type, field)] = fn
        return fn

    return decorator


def _not_expandable(path: str) -> Exception:
    return invalid(f"This property cannot be expanded ({path}).", param="expand")


def _expand(ctx: Ctx, node: Any, parts: list[str], path: str) -> None:
    if node is None:
        return
    if isinstance(node, list):
        for item in node:
            _expand(ctx, item, parts, path)
        return
    if not isinstance(node, dict):
        raise _not_expandable(path)
    field, rest = parts[0], parts[1:]
    if node.get("object") == "list" and field == "data":
        if not rest:
            raise _not_expandable(path)
        _expand(ctx, node["data"], rest, path)
        return
    producer = _VIRTUAL.get((node.get("object", ""), field))
    if producer is not None:
        node[field] = producer(ctx, node)
    elif field not in node:
        raise _not_expandable(path)
    value = node[field]
    if isinstance(value, str):
        target = render_id(ctx.store, value)
        if target is None:
            raise _not_expandable(path)
        node[field] = value = target
    elif isinstance(value, bool | int | float):
        raise _not_expandable(path)
    if rest:
        _expand(ctx, value, rest, path)


def apply_expansions(ctx: Ctx, obj: dict[str, Any], paths: list[Any]) -> dict[str, Any]:
    for path in paths:
        if not isinstance(path, str) or not path:
            raise invalid("Invalid array", param="expand")
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise invalid(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        _expand(ctx, obj, parts, path)
    return obj
