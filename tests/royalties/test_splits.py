"""Properties of the pure split engine (no database)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from royalties.splits import SplitError, allocate, compute_split, exact_share

BPS = 10_000


@st.composite
def share_lists(draw, prefix: str, max_parties: int = 6):
    n = draw(st.integers(min_value=1, max_value=max_parties))
    if n == 1:
        bps = [BPS]
    else:
        cuts = sorted(draw(st.lists(st.integers(0, BPS), min_size=n - 1, max_size=n - 1)))
        bounds = [0, *cuts, BPS]
        bps = [bounds[i + 1] - bounds[i] for i in range(n)]
    keys = draw(
        st.lists(
            st.sampled_from([f"{prefix}{i}" for i in range(8)] + ["both1", "both2"]),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    return list(zip(keys, bps, strict=True))


split_inputs = st.fixed_dictionaries(
    {
        "gross_cents": st.integers(0, 10**9),
        "currency": st.sampled_from(["usd", "eur", "jpy"]),
        "platform_fee_bps": st.integers(0, BPS),
        "master_pool_bps": st.integers(0, BPS),
        "master_shares": share_lists("m"),
        "publishing_shares": share_lists("p"),
    }
)


@given(split_inputs)
@settings(max_examples=400)
def test_lines_sum_exactly_to_gross(kw):
    lines = compute_split(**kw)
    assert sum(line.amount_cents for line in lines) == kw["gross_cents"]
    assert all(isinstance(line.amount_cents, int) and line.amount_cents >= 0 for line in lines)
    assert lines[0].kind == "platform_fee"


@given(split_inputs)
@settings(max_examples=400)
def test_each_line_within_one_cent_of_exact_share(kw):
    for line in compute_split(**kw):
        num, den = exact_share(
            gross_cents=kw["gross_cents"],
            line=line,
            platform_fee_bps=kw["platform_fee_bps"],
            master_pool_bps=kw["master_pool_bps"],
        )
        # |amount - num/den| < 1  <=>  |amount*den - num| < den
        assert abs(line.amount_cents * den - num) < den


@given(split_inputs, st.randoms(use_true_random=False))
@settings(max_examples=300)
def test_deterministic_and_independent_of_input_order(kw, rnd):
    a = compute_split(**kw)
    assert a == compute_split(**kw)
    shuffled = dict(kw)
    shuffled["master_shares"] = rnd.sample(kw["master_shares"], len(kw["master_shares"]))
    shuffled["publishing_shares"] = rnd.sample(
        kw["publishing_shares"], len(kw["publishing_shares"])
    )
    b = compute_split(**shuffled)
    as_map = lambda lines: {(x.kind, x.party_key): x.amount_cents for x in lines}  # noqa: E731
    assert as_map(a) == as_map(b)


def test_party_on_both_sides_gets_two_lines():
    lines = compute_split(
        gross_cents=299,
        currency="usd",
        platform_fee_bps=2000,
        master_pool_bps=5000,
        master_shares=[("ana", 6000), ("bo", 4000)],
        publishing_shares=[("ana", 10000)],
    )
    assert [(x.kind, x.party_key) for x in lines] == [
        ("platform_fee", None),
        ("master", "ana"),
        ("master", "bo"),
        ("publishing", "ana"),
    ]
    # 299: fee 59.8, master 119.6 (ana 71.76, bo 47.84), publishing 119.6
    assert [x.amount_cents for x in lines] == [60, 72, 48, 119]
    assert sum(x.amount_cents for x in lines) == 299


def test_tie_break_is_by_share_then_key():
    # 1 cent over three equal parties: remainders tie, shares tie -> smallest key.
    lines = compute_split(
        gross_cents=1,
        currency="usd",
        platform_fee_bps=0,
        master_pool_bps=10000,
        master_shares=[("c", 3334), ("b", 3333), ("a", 3333)],
        publishing_shares=[("z", 10000)],
    )
    got = {x.party_key: x.amount_cents for x in lines if x.kind == "master"}
    assert got == {"c": 1, "b": 0, "a": 0}
    lines = allocate(1, [("b", 5), ("a", 5)])
    assert lines == [0, 1]


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"master_shares": [("a", 5000)]}, "master shares sum to 5000"),
        ({"publishing_shares": [("a", 9999), ("b", 2)]}, "publishing shares sum to 10001"),
        ({"gross_cents": 1.5}, "gross_cents must be an integer"),
        ({"gross_cents": -1}, "at least 0"),
        ({"platform_fee_bps": 10001}, "at most 10000"),
        ({"master_shares": [("a", 5000), ("a", 5000)]}, "appears twice"),
        ({"currency": "dollars"}, "currency"),
    ],
)
def test_invalid_inputs_are_refused(kw, message):
    base = {
        "gross_cents": 100,
        "currency": "usd",
        "platform_fee_bps": 2000,
        "master_pool_bps": 5000,
        "master_shares": [("a", 10000)],
        "publishing_shares": [("b", 10000)],
    }
    with pytest.raises(SplitError, match=message):
        compute_split(**{**base, **kw})


@given(
    st.integers(0, 10**7),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=12).filter(lambda ws: sum(ws) > 0),
)
def test_allocate_sums_and_is_within_one(total, ws):
    weights = [(i, w) for i, w in enumerate(ws)]
    parts = allocate(total, weights)
    assert sum(parts) == total
    den = sum(ws)
    for part, w in zip(parts, ws, strict=True):
        assert abs(part * den - total * w) < den


@given(st.lists(st.integers(0, 5000), min_size=1, max_size=8), st.data())
def test_allocate_never_exceeds_a_weight_when_total_within_weights(ws, data):
    # The refund path allocates a refund over what remains of each line.
    if sum(ws) == 0:
        return
    total = data.draw(st.integers(0, sum(ws)))
    parts = allocate(total, list(enumerate(ws)))
    assert all(0 <= p <= w for p, w in zip(parts, ws, strict=True))


def test_no_float_in_engine_source():
    import inspect

    import royalties.splits as mod

    src = inspect.getsource(mod)
    assert "float(" not in src and "Decimal" not in src.split('"""', 2)[2]
    random.seed(0)
