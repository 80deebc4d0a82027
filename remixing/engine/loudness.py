"""Integrated loudness (ITU-R BS.1770-4) on every core, for the mastering loop.

libebur128 (``pyebur128``) holds the GIL while it filters: two meters in two threads took
twice as long as one, so the mastering loop's measurements ran on one core while the other
idled. This meter is the same measurement, compiled: the K-weighting filter (libebur128's
coefficients for any sample rate) runs in double precision over spans of 100 ms hops at
once, each span starting half a second early so its filter state has settled (the slowest
pole, the 38 Hz high-pass, has decayed by e^-100 by then), and the per-hop energies are
gated as libebur128 gates them: 400 ms blocks every 100 ms, an absolute gate at -70 LUFS
and a relative one 10 LU under the loudness of the blocks above it. It agrees with
libebur128 to 1e-6 LU (tests). Mono and stereo only (channel weights 1); anything else
goes to libebur128.

The measurement keeps each hop's energy and the filter's state as the hop starts, so the
mastering loop reads a gained and limited version of the mix without measuring it again:
hops the limiter leaves alone scale with the gain squared; the others are filtered again
from their saved state (:func:`loudness_after_gain`).
"""

from __future__ import annotations

import itertools
import math
from concurrent.futures import Executor
from dataclasses import dataclass

import numba
import numpy as np

_SETTLE_S = 0.5


def k_weighting(samplerate: int) -> np.ndarray:
    """(2, 5) rows of b0, b1, b2, a1, a2: the high shelf, then the RLB high-pass."""
    k = math.tan(math.pi * 1681.974450955533 / samplerate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0,
             (vh - vb * k / q + k * k) / a0, 2.0 * (k * k - 1.0) / a0,
             (1.0 - k / q + k * k) / a0]  # fmt: skip
    k = math.tan(math.pi * 38.13547087602444 / samplerate)
    q = 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, highpass], dtype=np.float64)


_State = tuple[float, float, float, float, float, float, float, float]


@numba.njit(cache=True, nogil=True)
def _hop_energies(
    data: np.ndarray,
    coeffs: np.ndarray,
    hop: int,
    settle: int,
    first: int,
    last: int,
    out: np.ndarray,
    states: np.ndarray,
) -> None:  # pragma: no cover - compiled; covered through integrated_loudness
    """``out[j]``: the K-weighted energy (summed over channels) of hop ``j``, for hops
    ``first <= j < last``, the filter started ``settle`` samples before hop ``first``;
    ``states[j, c]``: channel ``c``'s filter state as hop ``j`` starts. Channels are
    filtered two at a time (two independent recursions keep the core busy where one
    waits on its own latency); a lone channel is filtered twice and counted once."""
    channels = data.shape[0]
    for j in range(first, last):
        out[j] = 0.0
    for c in range(0, channels, 2):
        d = min(c + 1, channels - 1)
        weight = 1.0 if d != c else 0.0
        st = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        for n in range(max(0, first * hop - settle), first * hop):
            _, _, st = _k_pair(coeffs, np.float64(data[c, n]), np.float64(data[d, n]), st)
        for j in range(first, last):
            _keep(states, j, c, d, st)
            energy = 0.0
            for n in range(j * hop, (j + 1) * hop):
                z, w, st = _k_pair(coeffs, np.float64(data[c, n]), np.float64(data[d, n]), st)
                energy += z * z + weight * (w * w)
            out[j] += energy


@numba.njit(cache=True, nogil=True)
def _k_pair(
    k: np.ndarray, x: float, v: float, st: _State
) -> tuple[float, float, _State]:  # pragma: no cover - compiled, inlined
    """One sample of two channels through the shelf and the high-pass (direct form II
    transposed): both outputs and the new states."""
    s1, s2, t1, t2, u1, u2, r1, r2 = st
    y = k[0, 0] * x + s1
    z = k[1, 0] * y + t1
    a = k[0, 0] * v + u1
    b = k[1, 0] * a + r1
    return z, b, (
        k[0, 1] * x - k[0, 3] * y + s2, k[0, 2] * x - k[0, 4] * y,
        k[1, 1] * y - k[1, 3] * z + t2, k[1, 2] * y - k[1, 4] * z,
        k[0, 1] * v - k[0, 3] * a + u2, k[0, 2] * v - k[0, 4] * a,
        k[1, 1] * a - k[1, 3] * b + r2, k[1, 2] * a - k[1, 4] * b,
    )  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _keep(
    states: np.ndarray, j: int, c: int, d: int, st: _State
) -> None:  # pragma: no cover - compiled, inlined
    """Store a channel pair's filter states as hop ``j`` starts."""
    for i in range(4):
        states[j, c, i] = st[i]
        states[j, d, i] = st[4 + i]


@numba.njit(cache=True, nogil=True)
def _scaled_hop_energies(
    data: np.ndarray,
    coeffs: np.ndarray,
    hop: int,
    states: np.ndarray,
    gain: np.float32,
    curve: np.ndarray,
    stretches: np.ndarray,
    runs: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled; covered through loudness_after_gain
    """``out[j]`` for the hops of each run ``runs[r] = (first, last)``: the energy of
    ``data[c, n] * (gain * curve[n])`` (float32, as the master computes it) where ``n`` is
    in one of the sorted ``stretches``, ``data[c, n] * gain`` elsewhere, the filter
    restarted at the run's first hop from the measured state times ``gain``."""
    g = np.float64(gain)
    channels = data.shape[0]
    for r in range(runs.shape[0]):
        first, last = runs[r, 0], runs[r, 1]
        for j in range(first, last):
            out[j] = 0.0
        for c in range(0, channels, 2):
            d = min(c + 1, channels - 1)
            weight = 1.0 if d != c else 0.0
            sc, sd = states[first, c], states[first, d]
            st = (g * sc[0], g * sc[1], g * sc[2], g * sc[3],
                  g * sd[0], g * sd[1], g * sd[2], g * sd[3])  # fmt: skip
            k = 0
            for j in range(first, last):
                energy = 0.0
                for n in range(j * hop, (j + 1) * hop):
                    while k < stretches.shape[0] and stretches[k, 1] <= n:
                        k += 1
                    f = gain
                    if k < stretches.shape[0] and stretches[k, 0] <= n:
                        f = gain * curve[n]
                    x, v = np.float64(data[c, n] * f), np.float64(data[d, n] * f)
                    z, w, st = _k_pair(coeffs, x, v, st)
                    energy += z * z + weight * (w * w)
                out[j] += energy


@dataclass(frozen=True)
class HopEnergies:
    """A measurement kept for re-use: the K-weighted energy of every 100 ms hop and the
    filter's state as each hop starts, so a gained or limited version of the same audio
    is measured by filtering only the hops a limiter changed."""

    energies: np.ndarray  # (hops,) float64, summed over channels
    states: np.ndarray  # (hops, channels, 4) float64
    hop: int
    samplerate: int

    @property
    def loudness(self) -> float:
        return _blocks_loudness(self.energies, self.hop)


def hop_energies(
    audio: np.ndarray, samplerate: int, *, executor: Executor | None = None, pieces: int = 1
) -> HopEnergies:
    """Measure mono or stereo ``(channels, samples)`` float32 audio (see
    :func:`integrated_loudness`), keeping what :func:`loudness_after_gain` re-uses."""
    data = np.ascontiguousarray(audio, dtype=np.float32)
    hop = (samplerate + 5) // 10  # libebur128's 100 ms
    hops = data.shape[-1] // hop
    coeffs, settle = k_weighting(samplerate), int(_SETTLE_S * samplerate)
    energies = np.zeros(hops, dtype=np.float64)
    states = np.zeros((hops, data.shape[0], 4), dtype=np.float64)
    bounds = [hops * i // max(1, pieces) for i in range(max(1, pieces) + 1)]
    spans = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]

    def span(ab: tuple[int, int]) -> None:
        _hop_energies(data, coeffs, hop, settle, ab[0], ab[1], energies, states)

    if executor is None or len(spans) < 2:
        for ab in spans:
            span(ab)
    else:
        list(executor.map(span, spans))
    return HopEnergies(energies, states, hop, samplerate)


def loudness_after_gain(
    measured: HopEnergies,
    audio: np.ndarray,
    gain: np.float32,
    curve: np.ndarray,
    stretches: np.ndarray,
    *,
    executor: Executor | None = None,
    pieces: int = 1,
) -> float:
    """Integrated loudness of ``audio * (gain * curve)`` (float32) given the measurement of
    ``audio`` where ``curve`` is read only within ``stretches`` (sorted ``(k, 2)`` rows of
    start and stop) and taken as 1 elsewhere.

    Hops the curve leaves alone scale by ``gain ** 2``. Hops with a sample in a
    stretch, and the hop after each (the filter's memory of the change: its slowest
    pole has decayed by more than 1e-7 a hop later), are filtered again from the state
    measured as they start, times ``gain``. The result is the meter's reading of that
    audio to rounding, at the cost of filtering only those hops. With an ``executor``,
    the runs of such hops are shared out in ``pieces`` groups of about as many hops.
    """
    gain = np.float32(gain)
    hop, hops = measured.hop, measured.energies.size
    energies = measured.energies * float(gain) ** 2
    touched = np.zeros(hops + 1, dtype=bool)
    for lo, hi in stretches.tolist():
        touched[min(hops, lo // hop) : min(hops, (hi - 1) // hop + 2)] = True
    edges = np.flatnonzero(np.diff(np.r_[False, touched[:hops], False].astype(np.int8)))
    runs = edges.reshape(-1, 2).astype(np.int64)
    if runs.size:
        data = np.ascontiguousarray(audio, dtype=np.float32)
        coeffs = k_weighting(measured.samplerate)
        spans = np.ascontiguousarray(stretches, dtype=np.int64).reshape(-1, 2)
        done = np.cumsum(runs[:, 1] - runs[:, 0])
        parts = 1 if executor is None else max(1, pieces)
        cuts = np.searchsorted(done, [done[-1] * i / parts for i in range(1, parts)], "right")
        groups = [g for g in np.split(runs, cuts) if g.size]

        def group(own: np.ndarray) -> None:
            _scaled_hop_energies(
                data, coeffs, hop, measured.states, gain, curve, spans, own, energies
            )

        list((executor.map if executor is not None else map)(group, groups))
    return _blocks_loudness(energies, hop)


def integrated_loudness(
    audio: np.ndarray, samplerate: int, *, executor: Executor | None = None, pieces: int = 1
) -> float:
    """BS.1770-4 integrated loudness in LUFS of mono or stereo ``(channels, samples)``
    float32 audio (``-inf`` for silence or less than one 400 ms block)."""
    return hop_energies(audio, samplerate, executor=executor, pieces=pieces).loudness


def _blocks_loudness(energies: np.ndarray, hop: int) -> float:
    if energies.size < 4:
        return -math.inf
    blocks = np.convolve(energies, np.ones(4), "valid") / (4 * hop)
    return gated_loudness(blocks)


def gated_loudness(blocks: np.ndarray) -> float:
    """BS.1770-4 gating of 400 ms block energies (mean squares summed over channels)."""
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(blocks)
    above = blocks[levels > -70.0]
    if not above.size:
        return -math.inf
    relative = -0.691 + 10 * math.log10(float(above.mean())) - 10.0
    kept = blocks[levels > max(relative, -70.0)]
    if not kept.size:
        return -math.inf
    return -0.691 + 10 * math.log10(float(kept.mean()))
