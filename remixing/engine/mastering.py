"""Loudness normalisation to a streaming target with a true-peak ceiling.

Every published remix is normalised to -14 LUFS integrated (what major streaming services
play back at) with true peaks at or below -1 dBTP, so remixes are level-matched with each
other and survive lossy encoding without clipping. Gain alone cannot do both for dynamic
material (a drum-heavy mix at -14 LUFS often peaks above 0 dBTP), so a transparent
look-ahead limiter catches the peaks and the gain is re-solved until both targets hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from .analysis import integrated_loudness, true_peak_dbtp, true_peak_envelope

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
    """
    required = np.minimum(1.0, ceiling_lin / np.maximum(envelope, 1e-12)).astype(np.float32)
    if float(required.min()) >= 1.0:
        return np.ones_like(required)
    half = max(2, int(_LIMITER_WINDOW_S * samplerate))
    gain = minimum_filter1d(required, size=2 * half + 1, mode="nearest")
    box = 2 * (half // 2) + 1
    gain = uniform_filter1d(gain, size=box, mode="nearest")
    gain = uniform_filter1d(gain, size=box, mode="nearest")
    return np.minimum(gain, 1.0)


def normalise_loudness(
    audio: np.ndarray,
    samplerate: int,
    *,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
) -> MasterResult:
    """Gain + true-peak limiting so the result measures ``target_lufs`` and peaks under
    ``ceiling_dbtp``.

    Silence (or audio too short to measure) is only peak-limited. If reaching the target
    would need more than :data:`MAX_GAIN_DB`, the result stays quieter than the target.
    """
    x = np.asarray(audio, dtype=np.float32)
    loudness = integrated_loudness(x, samplerate)
    ceiling_lin = 10 ** ((ceiling_dbtp - _LIMITER_MARGIN_DB) / 20)
    if not math.isfinite(loudness):
        return _finish(x, samplerate, ceiling_dbtp, 0.0, limited=False)

    # The true-peak envelope scales linearly with gain, so it is computed once and the
    # limiter curve for any trial gain is derived from it without re-oversampling.
    envelope = true_peak_envelope(x)
    gain_db = min(MAX_GAIN_DB, target_lufs - loudness)
    previous: tuple[float, float] | None = None
    y, limited, measured = x, False, loudness
    for _ in range(_MAX_ITERATIONS):
        g = np.float32(10 ** (gain_db / 20))
        curve = limiter_gain(envelope * g, ceiling_lin, samplerate)
        limited = bool(curve.min() < 1.0)
        y = x * (g * curve if limited else g)
        measured = integrated_loudness(y, samplerate)
        error = target_lufs - measured
        if abs(error) <= _LOUDNESS_TOLERANCE_LU or gain_db >= MAX_GAIN_DB:
            break
        # Secant step: limiting makes loudness grow slower than gain (slope < 1 dB/dB).
        slope = 1.0
        if previous is not None and gain_db != previous[0]:
            slope = (measured - previous[1]) / (gain_db - previous[0])
            slope = min(1.0, max(0.1, slope))
        previous = (gain_db, measured)
        gain_db = min(MAX_GAIN_DB, gain_db + error / slope)
    return _finish(y, samplerate, ceiling_dbtp, gain_db, limited=limited, loudness=measured)


def _finish(
    y: np.ndarray,
    samplerate: int,
    ceiling_dbtp: float,
    gain_db: float,
    *,
    limited: bool,
    loudness: float | None = None,
) -> MasterResult:
    # Final guarantee: re-measure the real true peak and trim if the estimate was optimistic.
    peak = true_peak_dbtp(y)
    if math.isfinite(peak) and peak > ceiling_dbtp:
        y = y * np.float32(10 ** ((ceiling_dbtp - 0.05 - peak) / 20))
        peak = true_peak_dbtp(y)
        loudness = None
    if loudness is None:
        loudness = integrated_loudness(y, samplerate)
    return MasterResult(
        audio=np.ascontiguousarray(y, dtype=np.float32),
        integrated_lufs=loudness,
        true_peak_dbtp=peak,
        gain_db=gain_db,
        limited=limited,
    )
