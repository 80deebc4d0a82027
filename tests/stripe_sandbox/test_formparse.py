"""Form decoding must invert exactly what the stripe SDK encodes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode

from stripe_sandbox.errors import StripeError
from stripe_sandbox.formparse import apply_metadata, parse_form, split_key


def sdk_encode(params: dict[str, Any]) -> str:
    """Exactly what the SDK puts on the wire (brackets left unescaped)."""
    return urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        ("a", ["a"]),
        ("a[b]", ["a", "b"]),
        (
            "line_items[0][price_data][recurring][interval]",
            ["line_items", "0", "price_data", "recurring", "interval"],
        ),
        ("expand[]", ["expand", ""]),
        ("a[b", ["a[b"]),
        ("[x]", ["[x]"]),
    ],
)
def test_split_key(key: str, parts: list[str]) -> None:
    assert split_key(key) == parts


def test_nested_params_from_the_sdk() -> None:
    params = {
        "mode": "payment",
        "line_items": [
            {"price": "price_1", "quantity": 2},
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 5,
                    "recurring": {"interval": "month"},
                },
                "quantity": 1,
            },
        ],
        "metadata": {"0": "zero", "order": "7"},
        "payment_intent_data": {"transfer_group": "g", "metadata": {"a": "b"}},
        "expand": ["payment_intent", "line_items"],
        "capabilities": {"transfers": {"requested": True}},
    }
    assert parse_form(sdk_encode(params)) == {
        "mode": "payment",
        "line_items": [
            {"price": "price_1", "quantity": "2"},
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": "5",
                    "recurring": {"interval": "month"},
                },
                "quantity": "1",
            },
        ],
        "metadata": {"0": "zero", "order": "7"},
        "payment_intent_data": {"transfer_group": "g", "metadata": {"a": "b"}},
        "expand": ["payment_intent", "line_items"],
        "capabilities": {"transfers": {"requested": "true"}},
    }


def test_curl_style_arrays_and_blanks() -> None:
    assert parse_form("expand[]=a&expand[]=b&metadata[k]=&x=") == {
        "expand": ["a", "b"],
        "metadata": {"k": ""},
        "x": "",
    }
    assert parse_form("items[][price]=p1&items[][quantity]=1&items[][price]=p2") == {
        "items": [{"price": "p1", "quantity": "1"}, {"price": "p2"}]
    }


def test_conflicting_shapes_are_rejected() -> None:
    with pytest.raises(StripeError):
        parse_form("a=1&a[b]=2")


def test_metadata_merge_rules() -> None:
    assert apply_metadata({"a": "1", "b": "2"}, {"metadata": {"a": "", "c": "3"}}) == {
        "b": "2",
        "c": "3",
    }
    assert apply_metadata({"a": "1"}, {"metadata": ""}) == {}
    assert apply_metadata({"a": "1"}, {}) == {"a": "1"}
    with pytest.raises(StripeError):
        apply_metadata({}, {"metadata": {"k" * 41: "v"}})


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="[]"),
    min_size=1,
    max_size=8,
)
_key = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6)
_leaf = st.one_of(_text, st.integers(-(10**6), 10**6), st.booleans())
_value = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(_key, inner, min_size=1, max_size=3),
    ),
    max_leaves=8,
)


def _stringify(value: Any, in_list: bool = False) -> Any:
    if isinstance(value, bool) and not in_list:
        # (The SDK writes booleans that sit directly in a list as "True"/"False"; no Stripe
        # param is a list of booleans, and the sandbox keeps whatever string arrives.)
        return "true" if value else "false"
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v, in_list=True) for v in value]
    return str(value)


def _no_empty_or_nested_lists(value: Any) -> bool:
    # The SDK flattens a list inside a list into a dict with numeric keys; we only check the
    # shapes Stripe's API actually uses.
    if isinstance(value, list):
        return all(not isinstance(v, list) and _no_empty_or_nested_lists(v) for v in value)
    if isinstance(value, dict):
        return all(_no_empty_or_nested_lists(v) for v in value.values())
    return True


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_key, _value, min_size=1, max_size=4))
def test_roundtrip_of_sdk_encoding(params: dict[str, Any]) -> None:
    if not _no_empty_or_nested_lists(params):
        return
    assert parse_form(sdk_encode(params)) == _stringify(params)
