"""JSON from outside, with limits checked before the parser runs (no Django).

Python's json module recurses once per nesting level, so a few kilobytes of
"[[[[..." end in RecursionError; and PostgreSQL cannot store NUL or lone
surrogates in text or jsonb. Both are refused here with a plain-word reason.

It lives in catalog, the bottom of the dependency graph, beside the domain
error type, so that every app's API can use it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Deeper than any recipe, terms or id list we accept, far below Python's stack.
MAX_DEPTH = 32

# Strings are skipped whole, so brackets inside them are not counted.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{}]', re.DOTALL)


class JSONRejected(ValueError):
    """The JSON is unsafe or unstorable; the message is for the sender."""


def json_depth_check(text: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse text nested deeper than max_depth, without parsing it."""
    depth = 0
    for match in _TOKENS.finditer(text):
        found = match.group()
        if found in ("[", "{"):
            depth += 1
            if depth > max_depth:
                raise JSONRejected(f"The JSON is nested too deeply (at most {max_depth} levels).")
        elif found in ("]", "}"):
            depth -= 1


def text_unstorable_reason(text: str) -> str | None:
    """Why this text cannot be stored, or None when it can."""
    if "\x00" in text:
        return "Text may not contain NUL characters."
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "Text may not contain unpaired surrogate characters."
    return None


def json_storable_check(value: Any) -> None:
    """Refuse parsed JSON with strings (keys included) that cannot be stored.

    Depth is already bounded by json_depth_check, so recursion here is safe."""
    if isinstance(value, str):
        reason = text_unstorable_reason(value)
        if reason:
            raise JSONRejected(reason)
    elif isinstance(value, dict):
        for key, item in value.items():
            json_storable_check(key)
            json_storable_check(item)
    elif isinstance(value, list):
        for item in value:
            json_storable_check(item)


# No column, id or amount we store holds more than a signed 64-bit integer.
MAX_JSON_INT = 2**63 - 1


def _refuse_constant(name: str) -> None:
    # NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them.
    raise ValueError(f"{name} is not a JSON value")


def _bounded_int(digits: str) -> int:
    # Checked by length first: int() of thousands of digits is slow (and refused).
    if len(digits.lstrip("-")) > 19 or abs(value := int(digits)) > MAX_JSON_INT:
        raise ValueError(f"the number {digits[:24]} is out of range")
    return value


def _finite_float(text: str) -> float:
    # 1e999 parses as infinity, which is NaN's sibling and just as unstorable.
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:24]} is out of range")
    return value


def json_loads_bounded(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads, after the depth check and followed by the storable check."""
    json_depth_check(text, max_depth=max_depth)
    try:
        value = json.loads(
            text, parse_constant=_refuse_constant, parse_int=_bounded_int, parse_float=_finite_float
        )
    except ValueError as error:
        raise JSONRejected(f"The body is not valid JSON: {error}.") from None
    json_storable_check(value)
    return value
