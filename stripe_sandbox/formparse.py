"""Decode Stripe's bracketed form encoding into nested dicts/lists, plus typed accessors.

The stripe SDK (``stripe._encode._api_encode``) sends nested params as
``a[b][c]=v``, arrays *always* with explicit indexes (``line_items[0][price]=``,
``expand[0]=``), and leaves the brackets unescaped. curl users write
``expand[]=x``. Booleans arrive as ``true``/``false`` and everything is a string.
Both GET query strings and POST bodies use the same format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid, missing_param

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def split_key(key: str) -> list[str]:
    """``"a[b][0][]"`` -> ``["a", "b", "0", ""]``; malformed keys stay literal."""
    head, sep, rest = key.partition("[")
    if not sep:
        return [key]
    rest = "[" + rest
    segments = _SEGMENT.findall(rest)
    # Reject anything that is not a clean run of [..] groups (e.g. "a[b").
    if "".join(f"[{s}]" for s in segments) != rest or not head:
        return [key]
    return [head, *segments]


def _insert(node: dict[str, Any], parts: list[str], value: str, full_key: str) -> None:
    key = parts[0]
    if len(parts) == 1:
        node[key] = value
        return
    nxt = parts[1]
    if nxt == "":
        # "a[]=v" appends; "a[][b]=v" follows Rack: start a new element when the key repeats.
        lst = node.setdefault(key, [])
        if not isinstance(lst, list):
            raise invalid(f"Invalid array: {full_key}", param=full_key)
        if len(parts) == 2:
            lst.append(value)
            return
        if not lst or not isinstance(lst[-1], dict) or parts[2] in lst[-1]:
            lst.append({})
        _insert(lst[-1], parts[2:], value, full_key)
        return
    child = node.setdefault(key, {})
    if not isinstance(child, dict):
        raise invalid(f"Invalid hash: {full_key}", param=parts[0])
    _insert(child, parts[1:], value, full_key)


def _listify(value: Any, key: str | None = None) -> Any:
    """Turn ``{"0": x, "1": y}`` into ``[x, y]``, except under ``metadata`` (free-form keys)."""
    if isinstance(value, list):
        return [_listify(v) for v in value]
    if not isinstance(value, dict):
        return value
    if key == "metadata":
        return value
    converted = {k: _listify(v, k) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def parse_form(body: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        _insert(root, split_key(key), value, key)
    return {k: _listify(v, k) for k, v in root.items()}


def _stringify(value: Any) -> Any:
    """JSON bodies (a convenience for curl) are normalised to the same string leaves as forms."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if value is None:
        return ""
    return str(value)


def parse_json_body(body: str) -> dict[str, Any]:
    try:
        data = json.loads(body or "{}")
    except ValueError as exc:
        raise invalid(f"Invalid JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise invalid("Invalid JSON body: expected an object.")
    stringified: dict[str, Any] = _stringify(data)
    return stringified


# --- typed accessors ------------------------------------------------------------------------


def get_str(
    params: dict[str, Any], name: str, *, required: bool = False, param: str | None = None
) -> str | None:
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        if required:
            raise missing_param(label)
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {label}", param=label)
    return value


def get_int(
    params: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    minimum: int | None = None,
    param: str | None = None,
) -> int | None:
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        if required:
            raise missing_param(label)
        return None
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value.strip()):
        raise invalid(f"Invalid integer: {value}", param=label)
    number = int(value)
    if minimum is not None and number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", param=label)
    return number


def get_bool(params: dict[str, Any], name: str, *, param: str | None = None) -> bool | None:
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        return None
    if value in ("true", "false"):
        return bool(value == "true")
    raise invalid(f"Invalid boolean: {value}", param=label)


def get_dict(params: dict[str, Any], name: str, *, param: str | None = None) -> dict[str, Any]:
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {label}", param=label)
    return value


def get_list(params: dict[str, Any], name: str, *, param: str | None = None) -> list[Any]:
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        return []
    if isinstance(value, str):
        # A single value is accepted where Stripe takes an array (e.g. expand=foo).
        return [value]
    if not isinstance(value, list):
        raise invalid(f"Invalid array: {label}", param=label)
    return value


def apply_metadata(current: dict[str, str] | None, params: dict[str, Any]) -> dict[str, str]:
    """Merge ``metadata[...]`` like Stripe: ``metadata[k]=`` unsets a key, ``metadata=`` clears."""
    result = dict(current or {})
    if "metadata" not in params:
        return result
    raw = params["metadata"]
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid("Invalid object", param="metadata")
    for key, value in raw.items():
        if not isinstance(value, str):
            raise invalid(f"Invalid metadata value for key {key}", param=f"metadata[{key}]")
        if len(key) > 40:
            raise invalid("Metadata keys can be at most 40 characters long.", param="metadata")
        if len(value) > 500:
            raise invalid("Metadata values can be at most 500 characters long.", param="metadata")
        if value == "":
            result.pop(key, None)
        else:
            result[key] = value
    if len(result) > 50:
        raise invalid("Metadata can have at most 50 keys.", param="metadata")
    return result


def parse_created_filter(
    params: dict[str, Any], name: str = "created"
) -> Callable[[int], bool] | None:
    """``created=123`` or ``created[gte]=...`` -> predicate over a timestamp (or None)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        exact = get_int(params, name)
        return lambda ts: ts == exact
    if not isinstance(raw, dict):
        raise invalid(f"Invalid {name}", param=name)
    bounds: dict[str, int] = {}
    for op in ("gt", "gte", "lt", "lte"):
        if op in raw:
            bounds[op] = get_int(raw, op, param=f"{name}[{op}]")  # type: ignore[assignment]
    unknown = set(raw) - {"gt", "gte", "lt", "lte"}
    if unknown:
        bad = sorted(unknown)[0]
        raise invalid(f"Received unknown parameter: {name}[{bad}]", param=f"{name}[{bad}]")

    def predicate(ts: int) -> bool:
        return (
            ("gt" not in bounds or ts > bounds["gt"])
            and ("gte" not in bounds or ts >= bounds["gte"])
            and ("lt" not in bounds or ts < bounds["lt"])
            and ("lte" not in bounds or ts <= bounds["lte"])
        )

    return predicate


def param_name(base: str, *parts: str) -> str:
    """Stripe's name for a nested param: ``param_name("line_items[0]", "price")``."""
    if not base:
        base, parts = parts[0], parts[1:]
    return base + "".join(f"[{p}]" for p in parts)
