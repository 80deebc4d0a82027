"""Loudness normalisation to a streaming target with a true-peak ceiling.

Every published remix is normalised to -14 LUFS integrated (what major streaming services
play back at) with true peaks at or below -1 dBTP, so remixes are level-matched with each
other and survive lossy encoding without clipping. Gain alone cannot do both for dynamic
material (a drum-heavy mix at -14 LUFS often peaks above 0 dBTP), so a transparent
look-ahead limiter catches the peaks and the gain is re-solved until both targets hold.
Loudness is measured once on the mix and true peak found in one oversampled pass; a
limited result is measured again only while its loudness is off target.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from .analysis import as_2d, integrated_loudness_fast, true_peak_envelope
from .loudness import integrated_loudness as compiled_loudness
from .parallel import available_cores

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
# The limiter aims a little under the ceiling: the gain curve is computed per sample while
# true peaks live between samples, so a small margin absorbs the estimate's error.
_LIMITER_MARGIN_DB = 0.3
_LOUDNESS_TOLERANCE_LU = 0.05
_MAX_ITERATIONS = 8
# Never boost more than this: a near-silent mix must not be turned into amplified noise.
MAX_GAIN_DB = 40.0
# Limiter ramp half-width. 15 ms is short enough to catch drum hits, long enough that the
# gain moves slower than bass periods (no audible distortion on 40 Hz+ content).
_LIMITER_WINDOW_S = 0.015
_LIMITER_MERGE_GAP = 10_000


@dataclass(frozen=True)
class MasterResult:
    audio: np.ndarray
    integrated_lufs: float
    true_peak_dbtp: float
    gain_db: float  # make-up gain applied before limiting
    limited: bool  # whether the limiter had to reduce any peak


def limiter_gain(envelope: np.ndarray, ceiling_lin: float, samplerate: int) -> np.ndarray:
    """Smooth per-sample gain (<= 1) that keeps ``envelope * gain`` under ``ceiling_lin``.

    Offline, zero-latency look-ahead: a centred minimum filter of half-width ``h`` holds the
    required reduction around each peak, then two box filters of half-width ``h/2`` smooth
    the ramps. Any averaging window around a peak only sees minimum-filter outputs whose
    window contains that peak, so the smoothed gain never exceeds what the peak requires.

    The gain differs from 1 only within the filters' reach (``2h``) of a sample over the
    ceiling, so only those stretches are filtered (each with its reach of context, where
    the required gain is 1): the same curve, without three passes over the whole track
    for a few limited peaks.
    """
    n = envelope.shape[-1]
    gain = np.ones(n, dtype=np.float32)
    over = np.flatnonzero(envelope > ceiling_lin)
    if not over.size:
        return gain
    half = max(2, int(_LIMITER_WINDOW_S * samplerate))
    box = 2 * (half // 2) + 1
    reach = half + 2 * (box // 2) + 1
    # Stretches closer than this are filtered as one: a filter call costs about as much
    # as filtering 10,000 samples, and a drum-heavy mix is limited at every hit.
    gaps = np.flatnonzero(np.diff(over) > max(2 * reach, _LIMITER_MERGE_GAP))
    firsts, lasts = over[np.r_[0, gaps + 1]], over[np.r_[gaps, over.size - 1]]
    for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
        lo, hi = max(0, first - reach), min(n, last + reach + 1)
        ctx_lo, ctx_hi = max(0, lo - reach), min(n, hi + reach)
        span = envelope[ctx_lo:ctx_hi]
        required = np.minimum(1.0, ceiling_lin / np.maximum(span, 1e-12)).astype(np.float32)
        smooth = minimum_filter1d(required, size=2 * half + 1, mode="nearest")
        smooth = uniform_filter1d(smooth, size=box, mode="nearest")
        smooth = uniform_filter1d(smooth, size=box, mode="nearest")
        gain[lo:hi] = np.minimum(smooth[lo - ctx_lo : hi - ctx_lo], 1.0)
    return gain


def normalise_loudness(
    audio: np.ndarray,
    samplerate: int,
    *,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
) -> MasterResult:
    """Gain + true-peak limiting so the result measures ``target_lufs`` and peaks under
    ``ceiling_dbtp``.

    One loudness measurement of the mix (compiled, see :func:`_loudness`) and one oversampled
    true-peak pass. Gain scales loudness exactly (dB for dB), so without limiting no
    further measurement is needed; only when the limiter bites is the limited result
    measured again, and the gain corrected (a secant step) until it is within
    tolerance. The true peak of the result is the envelope times the applied gain,
    which the limiter keeps 0.3 dB under the ceiling.

    Silence (or audio too short to measure) is left as it is. If reaching the target
    would need more than :data:`MAX_GAIN_DB`, the result stays quieter than the target.
    Every measurement is spread over the cores (see :func:`_measure`).
    """
    x = np.asarray(audio, dtype=np.float32)
    cores = available_cores()
    with ThreadPoolExecutor(max_workers=max(2, cores)) as pool:
        return _normalise(x, samplerate, target_lufs, ceiling_dbtp, pool, cores)


def _normalise(
    x: np.ndarray,
    samplerate: int,
    target_lufs: float,
    ceiling_dbtp: float,
    pool: ThreadPoolExecutor,
    cores: int,
) -> MasterResult:
    loudness, envelope = _measure(x, samplerate, pool, cores)
    ceiling_lin = 10 ** ((ceiling_dbtp - _LIMITER_MARGIN_DB) / 20)
    if not math.isfinite(loudness):
        # Nothing to normalise; peaks are still held under the ceiling.
        curve = limiter_gain(envelope, ceiling_lin, samplerate) if x.size else None
        if curve is None or float(curve.min()) >= 1.0:
            return _result(x, envelope, np.float32(1.0), None, 0.0, loudness)
        return _result(x * curve, envelope, np.float32(1.0), curve, 0.0, loudness)
    gain_db = min(MAX_GAIN_DB, target_lufs - loudness)
    gain_db = _allow_for_limiter(x, envelope, gain_db, ceiling_lin, samplerate)
    previous: tuple[float, float] | None = None
    for _ in range(_MAX_ITERATIONS):
        g = np.float32(10 ** (gain_db / 20))
        curve = limiter_gain(envelope * g, ceiling_lin, samplerate)
        if float(curve.min()) >= 1.0:
            return _result(x, envelope, g, None, gain_db, loudness + gain_db)
        y = x * (g * curve)
        measured = _loudness(y, samplerate, pool, cores)
        applied_db = gain_db
        error = target_lufs - measured
        if abs(error) <= _LOUDNESS_TOLERANCE_LU or gain_db >= MAX_GAIN_DB:
            break
        # Secant step: limiting makes loudness grow slower than gain (slope < 1 dB/dB).
        slope = 1.0
        if previous is not None and gain_db != previous[0]:
            slope = min(1.0, max(0.1, (measured - previous[1]) / (gain_db - previous[0])))
        previous = (gain_db, measured)
        gain_db = min(MAX_GAIN_DB, gain_db + error / slope)
    return _result(y, envelope, g, curve, applied_db, measured)


def _allow_for_limiter(
    x: np.ndarray, envelope: np.ndarray, gain_db: float, ceiling_lin: float, samplerate: int
) -> float:
    """A first gain that already makes up what the limiter will take off.

    Gain alone would reach the target; the limiter then lowers the loudest peaks and the
    result measures under it, which cost a full measurement and a correction. The
    energy the limiter removes, summed over the limited samples only (unweighted and
    ungated: an underestimate for bright drums, whose K-weighted share is larger),
    predicts most of that shortfall; two fixed-point steps refine it. The loop that
    follows measures and corrects as before: the guess only saves measurements.
    """
    energy = np.square(as_2d(x)).sum(axis=0)  # per sample, over channels
    total = float(energy.sum(dtype=np.float64))
    base = gain_db
    for _ in range(2):
        curve = limiter_gain(envelope * np.float32(10 ** (gain_db / 20)), ceiling_lin, samplerate)
        limited = np.flatnonzero(curve < 1.0)
        if not limited.size or not total > 0:
            return gain_db
        kept = np.square(curve[limited], dtype=np.float64)
        removed = float(np.dot(energy[limited], 1.0 - kept))
        gain_db = min(MAX_GAIN_DB, base - 10 * math.log10(max(1e-6, 1.0 - removed / total)))
    return gain_db


def _measure(
    x: np.ndarray, samplerate: int, pool: ThreadPoolExecutor, cores: int
) -> tuple[float, np.ndarray]:
    """Integrated loudness and the true-peak envelope of ``x``, each spread over the
    cores (both kernels are compiled and release the GIL)."""
    if not x.size:
        return integrated_loudness_fast(x, samplerate), np.zeros(0, dtype=np.float32)
    envelope = true_peak_envelope(x, executor=pool, pieces=cores)
    return _loudness(x, samplerate, pool, cores), envelope


def _loudness(x: np.ndarray, samplerate: int, pool: ThreadPoolExecutor, cores: int) -> float:
    """BS.1770-4 integrated loudness: the compiled meter of :mod:`.loudness` on every
    core for mono and stereo (libebur128 holds the GIL, so its meters could not share
    the cores; the two agree to 1e-6 LU), libebur128 for more channels."""
    if as_2d(x).shape[0] <= 2:
        return compiled_loudness(x, samplerate, executor=pool, pieces=cores)
    return integrated_loudness_fast(x, samplerate)


def _result(
    y: np.ndarray,
    envelope: np.ndarray,
    g: np.float32,
    curve: np.ndarray | None,
    gain_db: float,
    loudness: float,
) -> MasterResult:
    """``y`` is the result when limited; otherwise the input, scaled here once."""
    if curve is None:
        y = y * g if g != 1.0 else y
        peak_lin = float(envelope.max()) * float(g) if envelope.size else 0.0
    else:
        peak_lin = float((envelope * (g * curve)).max())
    return MasterResult(
        audio=np.ascontiguousarray(y, dtype=np.float32),
        integrated_lufs=loudness,
        true_peak_dbtp=20 * math.log10(peak_lin) if peak_lin > 0 else -math.inf,
        gain_db=gain_db,
        limited=curve is not None,
    )
