"""The split engine: pure integer arithmetic, no Django, no floats, no Decimal.

A paid remix's gross is cut in three steps — platform fee, then a master pool
and a publishing pool out of what remains, then each pool pro rata by shares —
but the rounding happens once, over the final lines: every line's exact share
is an integer numerator over the common denominator 10000³, each line gets the
floor, and the cents left over go to the largest fractional remainders.

Rounding once (rather than rounding the fee, then each pool, then each party)
is what keeps every line strictly less than one cent from its exact share; a
party on both sides of the split gets two lines, each within a cent.

`allocate()` is the same largest-remainder rule for any integer weights; the
refund path uses it to spread a refund pro rata over what is left of each line.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

BPS_WHOLE = 10_000

LineKind = Literal["platform_fee", "master", "publishing"]
KIND_ORDER = {"platform_fee": 0, "master": 1, "publishing": 2}


class SplitError(ValueError):
    """The inputs do not describe a valid split (shares not summing to 10000…)."""


@dataclass(frozen=True, slots=True)
class SplitLine:
    kind: LineKind
    party_key: Hashable | None
    amount_cents: int
    bps: int = 0  # the party's share of its pool (0 for the platform fee)


def _check_int(name: str, value: object, *, lo: int | None = None, hi: int | None = None) -> int:
    # bool is an int subclass; money must never be a bool (or a float).
    if not isinstance(value, int) or isinstance(value, bool):
        raise SplitError(f"{name} must be an integer, got {type(value).__name__}")
    if lo is not None and value < lo:
        raise SplitError(f"{name} must be at least {lo}, got {value}")
    if hi is not None and value > hi:
        raise SplitError(f"{name} must be at most {hi}, got {value}")
    return value


def _sort_text(key: Hashable | None) -> tuple[int, str]:
    # A total order over party keys of any type, stable across runs.
    if key is None:
        return (0, "")
    if isinstance(key, int) and not isinstance(key, bool):
        return (1, f"{key:020d}" if key >= 0 else f"-{-key:020d}")
    return (2, str(key))


def allocate(total: int, weights: Sequence[tuple[Hashable, int]]) -> list[int]:
    """Split `total` (>= 0) pro rata by integer `weights` (>= 0, not all zero
    unless total is 0). Returns one integer per weight, in input order, summing
    exactly to `total`, each strictly within one unit of its exact share.

    Largest remainder; ties go to the larger weight, then the smaller key — so
    the result does not depend on the order of `weights`.
    """
    _check_int("total", total, lo=0)
    keys = [k for k, _ in weights]
    if len(set(keys)) != len(keys):
        raise SplitError("allocate keys must be unique")
    ws = [_check_int("weight", w, lo=0) for _, w in weights]
    denom = sum(ws)
    if denom == 0:
        if total == 0:
            return [0 for _ in ws]
        raise SplitError("cannot allocate a non-zero total over zero weights")
    floors: list[int] = []
    rems: list[int] = []
    for w in ws:
        q, r = divmod(total * w, denom)
        floors.append(q)
        rems.append(r)
    left = total - sum(floors)  # 0 <= left < len(ws)
    order = sorted(
        range(len(ws)),
        key=lambda i: (-rems[i], -ws[i], _sort_text(keys[i])),
    )
    for i in order[:left]:
        floors[i] += 1
    return floors


def _shares(name: str, shares: Sequence[tuple[Hashable, int]]) -> list[tuple[Hashable, int]]:
    out: list[tuple[Hashable, int]] = []
    seen: set[Hashable] = set()
    for pair in shares:
        if len(pair) != 2:
            raise SplitError(f"{name}: each share is (party_key, bps)")
        key, bps = pair
        if key is None:
            raise SplitError(f"{name}: a party key is required")
        if key in seen:
            raise SplitError(f"{name}: party {key!r} appears twice")
        seen.add(key)
        out.append((key, _check_int(f"{name} bps", bps, lo=0, hi=BPS_WHOLE)))
    total = sum(b for _, b in out)
    if total != BPS_WHOLE:
        raise SplitError(f"{name} sum to {total} basis points, not {BPS_WHOLE}")
    return out


def compute_split(
    *,
    gross_cents: int,
    currency: str,
    platform_fee_bps: int,
    master_pool_bps: int,
    master_shares: Sequence[tuple[Hashable, int]],
    publishing_shares: Sequence[tuple[Hashable, int]],
) -> list[SplitLine]:
    """Cut `gross_cents` into a platform fee line, master lines and publishing lines.

    `platform_fee_bps` is a share of the gross; `master_pool_bps` is the master
    pool's share of what remains after the fee (the publishing pool gets the
    rest). Shares on each side must sum to exactly 10000 bps. Lines come back
    platform fee first, then master and publishing lines in input order; their
    amounts sum exactly to the gross. Shares of 0 bps get no line.
    """
    _check_int("gross_cents", gross_cents, lo=0)
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise SplitError(f"currency must be a 3-letter ISO code, got {currency!r}")
    fee_bps = _check_int("platform_fee_bps", platform_fee_bps, lo=0, hi=BPS_WHOLE)
    pool_bps = _check_int("master_pool_bps", master_pool_bps, lo=0, hi=BPS_WHOLE)
    master = _shares("master shares", master_shares)
    publishing = _shares("publishing shares", publishing_shares)

    net_bps = BPS_WHOLE - fee_bps
    # Exact numerators over BPS_WHOLE**3 (times gross, applied in allocate).
    slots: list[tuple[LineKind, Hashable | None, int, int]] = [
        ("platform_fee", None, 0, fee_bps * BPS_WHOLE * BPS_WHOLE)
    ]
    slots += [("master", k, b, net_bps * pool_bps * b) for k, b in master if b]
    slots += [
        ("publishing", k, b, net_bps * (BPS_WHOLE - pool_bps) * b) for k, b in publishing if b
    ]
    # Keys for the tie-break: line kind first, then the party.
    weights = [((KIND_ORDER[kind], _sort_text(key)), w) for kind, key, _, w in slots]
    amounts = allocate(gross_cents, weights) if gross_cents else [0] * len(slots)
    return [
        SplitLine(kind=kind, party_key=key, amount_cents=amt, bps=b)
        for (kind, key, b, _), amt in zip(slots, amounts, strict=True)
    ]


def exact_share(
    *,
    gross_cents: int,
    line: SplitLine,
    platform_fee_bps: int,
    master_pool_bps: int,
) -> tuple[int, int]:
    """A line's exact share as a fraction (numerator, denominator) — for tests
    and audits that check the one-cent rule without floats."""
    net_bps = BPS_WHOLE - platform_fee_bps
    if line.kind == "platform_fee":
        num = platform_fee_bps * BPS_WHOLE * BPS_WHOLE
    elif line.kind == "master":
        num = net_bps * master_pool_bps * line.bps
    else:
        num = net_bps * (BPS_WHOLE - master_pool_bps) * line.bps
    return gross_cents * num, BPS_WHOLE**3
