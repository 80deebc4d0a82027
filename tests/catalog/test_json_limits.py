"""catalog.json_limits: pure, no database."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.identifiers import MAX_ROW_ID, row_id_or_none
from catalog.json_limits import (
    JSONRejected,
    json_depth_check,
    json_loads_bounded,
    text_unstorable_reason,
)


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


@given(json_values, st.integers(min_value=1, max_value=8))
def test_depth_check_agrees_with_the_parsed_depth(value, limit):
    text = json.dumps(value)
    if _depth(value) > limit:
        with pytest.raises(JSONRejected):
            json_depth_check(text, max_depth=limit)
    else:
        json_depth_check(text, max_depth=limit)


def test_brackets_inside_strings_do_not_count():
    json_depth_check(json.dumps({"a": "[[[[[[[[[[" * 10, "b": '\\"[[['}), max_depth=1)


def test_five_thousand_deep_is_refused_before_parsing():
    with pytest.raises(JSONRejected, match="nested too deeply"):
        json_loads_bounded("[" * 5_000 + "]" * 5_000)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "\\u0000"}',
        '{"\\u0000": 1}',
        '["\\ud800"]',
        "[NaN]",
        "[Infinity]",
        "{",
        "[1e999]",
        "[-1e999]",
        "[9223372036854775808]",
        "[-9223372036854775808]",
        "[1" + "0" * 5_000 + "]",
    ],
)
def test_unstorable_or_invalid_json_is_refused(text):
    with pytest.raises(JSONRejected):
        json_loads_bounded(text)


def test_good_json_passes_through():
    assert json_loads_bounded('{"a": [1, {"b": "\\\\u0000 is fine as text"}]}') == {
        "a": [1, {"b": "\\u0000 is fine as text"}]
    }
    assert text_unstorable_reason("plain 🎧 text") is None


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        (7, 7),
        ("0", None),
        ("-1", None),
        ("1.5", None),
        ("١٢", None),
        ("²", None),
        ("", None),
        (None, None),
        (True, None),
        (str(MAX_ROW_ID), MAX_ROW_ID),
        (str(MAX_ROW_ID + 1), None),
        ("9" * 5_000, None),
        ("0" * 30 + "7", 7),
    ],
)
def test_row_ids_from_outside(given_value, expected):
    assert row_id_or_none(given_value) == expected
