"""The look-ahead limiter's gain curve, compiled, for the stretches where it acts.

Offline, zero-latency look-ahead: a centred minimum filter of half-width ``h`` holds the
required reduction around each peak, then two box filters of half-width ``h/2`` smooth
the ramps. Any averaging window around a peak only sees minimum-filter outputs whose
window contains that peak, so the smoothed gain never exceeds what the peak requires.

The gain differs from 1 only within the filters' reach (``2h``) of a sample over the
ceiling, so only those stretches are filtered, each with its reach of context (where the
required gain is 1): the same curve as filtering the whole track. scipy's filters did
this stretch by stretch, but a drum-heavy mix is limited at every hit, and three filter
calls per stretch cost more in Python than in filtering (about 25 ms per 3 minutes of
stereo for each gain the mastering loop tries). This kernel scans, filters (the same
running sums as scipy's, in double precision) and writes the curve in one call;
:func:`apply_gain` applies gain and curve in one pass (into the mix itself when the
caller hands it over).
"""

from __future__ import annotations

import itertools
from concurrent.futures import Executor

import numba
import numpy as np

# Limiter ramp half-width. 15 ms is short enough to catch drum hits, long enough that the
# gain moves slower than bass periods (no audible distortion on 40 Hz+ content).
WINDOW_S = 0.015
# Stretches closer than this are filtered as one.
_MERGE_GAP = 10_000


@numba.njit(cache=True, nogil=True)
def _running_min(values: np.ndarray, half: int, out: np.ndarray) -> None:
    """``out[i]``: the minimum of ``values`` over ``i - half .. i + half``, the ends
    repeated past the edges (scipy's ``mode="nearest"``): van Herk and Gil-Werman's
    three passes, minima running forwards and backwards within blocks of the window's
    size, so any window is the tail of one block and the head of the next."""
    m, size = values.size, 2 * half + 1
    padded = np.empty(m + 2 * half, dtype=np.float32)
    padded[:half] = values[0]
    padded[half : half + m] = values
    padded[half + m :] = values[m - 1]
    forward, backward = np.empty_like(padded), np.empty_like(padded)
    for start in range(0, padded.size, size):
        stop = min(padded.size, start + size)
        low = forward[start] = padded[start]
        for k in range(start + 1, stop):
            low = forward[k] = padded[k] if padded[k] < low else low
        low = backward[stop - 1] = padded[stop - 1]
        for k in range(stop - 2, start - 1, -1):
            low = backward[k] = padded[k] if padded[k] < low else low
    for i in range(m):
        a, b = backward[i], forward[i + size - 1]
        out[i] = a if a < b else b


@numba.njit(cache=True, nogil=True)
def _running_mean(values: np.ndarray, half: int, out: np.ndarray) -> None:
    """``out[i]``: the mean of ``values`` over ``i - half .. i + half``, ``mode="nearest"``;
    scipy's ``uniform_filter1d`` recurrence (a double running sum, each step divided)."""
    m, size = values.size, 2 * half + 1
    total = 0.0
    for k in range(-half, half + 1):
        total += values[min(m - 1, max(0, k))]
    total /= size
    out[0] = total
    for i in range(1, m):
        added = np.float64(values[min(m - 1, i + half)])
        dropped = np.float64(values[max(0, i - half - 1)])
        total += (added - dropped) / size
        out[i] = total


@numba.njit(cache=True, nogil=True, fastmath=True)
def _next_over(envelope: np.ndarray, g: np.float32, ceiling: np.float32, start: int) -> int:
    """The first ``i >= start`` with ``envelope[i] * g > ceiling`` (``envelope.size`` if
    none), a block's maximum at a time (fastmath lets LLVM vectorise it; the envelope is
    finite)."""
    n = envelope.size
    i = start
    while i < n:
        stop = min(n, i + 256)
        high = np.float32(0.0)
        for k in range(i, stop):
            high = envelope[k] if envelope[k] > high else high
        if high * g > ceiling:
            for k in range(i, stop):
                if envelope[k] * g > ceiling:
                    return k
        i = stop
    return n


@numba.njit(cache=True, nogil=True)
def _limit(
    curve: np.ndarray,
    envelope: np.ndarray,
    g: np.float32,
    ceiling: np.float32,
    half: int,
    stretches: np.ndarray,
    start: int,
    stop: int,
) -> int:  # pragma: no cover - compiled; covered through limit_into
    """Write the curve of each stretch whose cluster of overs begins in ``start <= n <
    stop`` (a cluster runs on past ``stop``; one that began before ``start`` is left to
    whoever has that span) and its bounds; return how many there are."""
    n = envelope.size
    reach = half + 2 * (half // 2) + 1
    gap = max(2 * reach, _MERGE_GAP)
    count = 0
    i, last = start, -1
    for k in range(max(0, start - gap), start):
        if envelope[k] * g > ceiling:
            last = k
    while i < stop:
        first = -1  # with ``last`` set: the cluster the span began in
        if last < 0:
            i = _next_over(envelope, g, ceiling, i)
            if i >= stop:
                break
            first = last = i  # a cluster of overs: none further apart than ``gap``
        j = i + 1 if first >= 0 else i
        while j < n and j - last <= gap:
            if envelope[j] * g > ceiling:
                last = j
            j += 1
        if first >= 0:
            a, b = _stretch(curve, envelope, g, ceiling, half, first, last)
            if b > a:
                stretches[count, 0], stretches[count, 1] = a, b
                count += 1
        i, last = j, -1
    return count


@numba.njit(cache=True, nogil=True)
def _stretch(
    curve: np.ndarray,
    envelope: np.ndarray,
    g: np.float32,
    ceiling: np.float32,
    half: int,
    first: int,
    last: int,
) -> tuple[int, int]:  # pragma: no cover - compiled; covered through limit_into
    """Filter the cluster of overs ``first .. last`` and write its curve where it is under
    1; return where that is (empty if nowhere)."""
    box = half // 2
    reach = half + 2 * box + 1
    # Past ``reach`` from the cluster's overs the required gain is 1 and so is the curve,
    # whatever lies further: the stretch is its own context.
    lo, hi = max(0, first - reach), min(envelope.size, last + reach + 1)
    required = np.empty(hi - lo, dtype=np.float32)
    for k in range(lo, hi):
        required[k - lo] = min(np.float32(1.0), ceiling / max(envelope[k] * g, np.float32(1e-12)))
    held, smooth = np.empty_like(required), np.empty_like(required)
    _running_min(required, half, held)
    _running_mean(held, box, smooth)
    _running_mean(smooth, box, held)
    a, b = hi, lo
    for k in range(lo, hi):
        if held[k - lo] < 1.0:
            a, b = min(a, k), k + 1
    for k in range(a, b):
        curve[k] = min(np.float32(1.0), held[k - lo])
    return a, b


def limit_into(
    curve: np.ndarray,
    envelope: np.ndarray,
    g: np.float32,
    ceiling_lin: float,
    samplerate: int,
    *,
    executor: Executor | None = None,
    pieces: int = 1,
) -> np.ndarray:
    """Write the limiter's gain for ``envelope * g`` into ``curve`` where it is under 1,
    and return those stretches, ``(k, 2)`` rows of start and stop, sorted: the curve is 1
    everywhere else, and ``curve`` is left as it was there. With an ``executor``,
    ``pieces`` spans of the track at once (each takes the clusters of overs that begin in
    it: the same stretches and curve)."""
    half = max(2, int(WINDOW_S * samplerate))
    reach = half + 2 * (half // 2) + 1
    env = np.ascontiguousarray(envelope, dtype=np.float32)
    n = env.size
    parts = 1 if executor is None else max(1, pieces)
    bounds = [n * i // parts for i in range(parts + 1)]
    gain, ceiling = np.float32(g), np.float32(ceiling_lin)

    def span(ab: tuple[int, int]) -> np.ndarray:
        stretches = np.empty(((ab[1] - ab[0]) // (2 * reach) + 2, 2), dtype=np.int64)
        count = _limit(curve, env, gain, ceiling, half, stretches, ab[0], ab[1])
        return stretches[:count]

    found = list((executor.map if executor is not None else map)(span, itertools.pairwise(bounds)))
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def _gain_span(
    data: np.ndarray,
    g: np.float32,
    curve: np.ndarray,
    stretches: np.ndarray,
    out: np.ndarray,
    start: int,
    stop: int,
) -> None:  # pragma: no cover - compiled; covered through apply_gain
    """``out[:, start:stop]``: ``data * g``, and ``data * (g * curve)`` in the stretches;
    each sample is read before it is written, so ``out`` may be ``data``."""
    k = 0
    while k < stretches.shape[0] and stretches[k, 1] <= start:
        k += 1
    n = start
    while n < stop:
        a = min(stop, max(n, stretches[k, 0])) if k < stretches.shape[0] else stop
        for c in range(data.shape[0]):
            for i in range(n, a):
                out[c, i] = data[c, i] * g
        if a == stop:
            break
        b = min(stop, stretches[k, 1])
        for c in range(data.shape[0]):
            for i in range(a, b):
                out[c, i] = data[c, i] * (g * curve[i])
        n, k = b, k + 1


def apply_gain(
    data: np.ndarray,
    g: np.float32,
    curve: np.ndarray,
    stretches: np.ndarray,
    out: np.ndarray,
    *,
    executor: Executor | None = None,
    pieces: int = 1,
) -> np.ndarray:
    """``out`` (which may be ``data``, ``(channels, samples)`` float32): ``data`` times the
    gain ``g`` and, within ``stretches``, the limiter's ``curve`` (float32 products, as
    the loudness of limited candidates is read); in ``pieces`` spans at once with an
    ``executor``."""
    n = data.shape[-1]
    parts = 1 if executor is None else max(1, pieces)
    bounds = [n * i // parts for i in range(parts + 1)]
    spans = np.ascontiguousarray(stretches, dtype=np.int64).reshape(-1, 2)
    gain = np.float32(g)

    def span(ab: tuple[int, int]) -> None:
        _gain_span(data, gain, curve, spans, out, ab[0], ab[1])

    list((executor.map if executor is not None else map)(span, itertools.pairwise(bounds)))
    return out
