"""core.refs: reference formats built and parsed in one place (pure)."""

from __future__ import annotations

import pytest

from core.refs import order_ref, parse_order_ref, parse_remix_ref, remix_ref


def test_refs_round_trip():
    assert order_ref(42) == "order_42"
    assert remix_ref(7) == "remix_7"
    assert parse_order_ref(order_ref(42)) == 42
    assert parse_remix_ref(remix_ref(7)) == 7


@pytest.mark.parametrize(
    "ref", ["", "remix_", "remix_x", "remix_-1", "remix_1.5", "order_7", "remix_٣"]
)
def test_not_a_remix_ref(ref):
    assert parse_remix_ref(ref) is None


def test_order_and_remix_refs_do_not_cross():
    assert parse_order_ref(remix_ref(3)) is None
    assert parse_order_ref("order_12") == 12
