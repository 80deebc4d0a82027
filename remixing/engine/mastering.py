"""Loudness normalisation to a streaming target with a true-peak ceiling.

Every published remix is normalised to -14 LUFS integrated (what major streaming services
play back at) with true peaks at or below -1 dBTP, so remixes are level-matched with each
other and survive lossy encoding without clipping. Gain alone cannot do both for dynamic
material (a drum-heavy mix at -14 LUFS often peaks above 0 dBTP), so a transparent
look-ahead limiter catches the peaks and the gain is re-solved until both targets hold.
Loudness is measured once on the mix and true peak found in one oversampled pass; each
limited candidate is read from that measurement (only the hops the limiter changed are
filtered again), and the true peak of the output is checked where the limiter acted.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from .analysis import as_2d, integrated_loudness_fast, true_peak_envelope
from .limiter import apply_gain, limit_into
from .loudness import HopEnergies, hop_energies, loudness_after_gain
from .parallel import available_cores
from .true_peak import true_peak_after_gain

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
# The limiter aims a little under the ceiling: the gain curve is computed per sample while
# true peaks live between samples, so a small margin absorbs the estimate's error.
_LIMITER_MARGIN_DB = 0.3
_LOUDNESS_TOLERANCE_LU = 0.05
_MAX_ITERATIONS = 8
# Limiting makes loudness grow slower than gain; before two points give the secant its
# slope, assume this many dB per dB (measured 0.54-0.88 on limited synthesised mixes; of
# 0.5-1.0, 0.7 needed the fewest measurements over 24 of them: 2.0 each, 1.0 needed 2.6).
_FIRST_SLOPE = 0.7
# Never boost more than this: a near-silent mix must not be turned into amplified noise.
MAX_GAIN_DB = 40.0


@dataclass(frozen=True)
class MasterResult:
    audio: np.ndarray
    integrated_lufs: float
    true_peak_dbtp: float
    gain_db: float  # make-up gain applied before limiting
    limited: bool  # whether the limiter had to reduce any peak


def limiter_gain(envelope: np.ndarray, ceiling_lin: float, samplerate: int) -> np.ndarray:
    """Smooth per-sample gain (<= 1) that keeps ``envelope * gain`` under ``ceiling_lin``:
    the whole curve of :func:`.limiter.limit_into`'s stretches."""
    gain = np.ones(envelope.shape[-1], dtype=np.float32)
    limit_into(gain, envelope, np.float32(1.0), ceiling_lin, samplerate)
    return gain


def normalise_loudness(
    audio: np.ndarray,
    samplerate: int,
    *,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    overwrite: bool = False,
) -> MasterResult:
    """Gain + true-peak limiting so the result measures ``target_lufs`` and peaks under
    ``ceiling_dbtp``. With ``overwrite``, a caller that hands its float32 mix over gets
    the result written into it (no second track-long array; the render's mix is its own).

    One loudness measurement of the mix and one oversampled true-peak pass (compiled,
    spread over the cores, see :func:`_measure`). Gain scales loudness exactly (dB for
    dB), so without limiting nothing more is measured. When the limiter bites, the
    loudness of each limited candidate is the mix's measurement with only the hops the
    limiter changed filtered again (:func:`.loudness.loudness_after_gain`, the meter's
    reading of that audio to rounding), and the gain is corrected (a secant step) until
    it is within tolerance. The true peak of the result is measured on the result:
    the envelope times the gain, re-computed from the output near every limited
    stretch; should it pass the ceiling, the whole result is turned down by the excess.

    Silence (or audio too short to measure) is left as it is. If reaching the target
    would need more than :data:`MAX_GAIN_DB`, the result stays quieter than the target.
    """
    x = np.asarray(audio, dtype=np.float32)
    data = np.ascontiguousarray(as_2d(x))
    # A copy made here (not float32, not contiguous) is ours to overwrite too.
    overwrite = overwrite or not np.may_share_memory(data, audio)
    cores = available_cores()
    with ThreadPoolExecutor(max_workers=max(2, cores)) as pool:
        envelope, measured = _measure(data, samplerate, pool, cores)
        curve = np.empty(data.shape[-1], dtype=np.float32)  # written only where limited
        ceiling_lin = 10 ** ((ceiling_dbtp - _LIMITER_MARGIN_DB) / 20)
        if math.isfinite(measured.loudness):
            plan = _solve_gain(data, measured, envelope, curve, target_lufs, ceiling_lin)
        else:  # nothing to normalise; peaks are still held under the ceiling
            one = np.float32(1.0)
            stretches = limit_into(
                curve, envelope, one, ceiling_lin, samplerate, executor=pool, pieces=cores
            )
            plan = _Plan(one, 0.0, stretches, measured.loudness)
        y = _apply(data, plan, curve, pool, cores, overwrite=overwrite)
        # The curve is spent: its pages near the limited stretches hold the output's envelope.
        result = _verified(y, envelope, plan, 10 ** (ceiling_dbtp / 20), curve, measured)
    return replace(result, audio=result.audio.reshape(x.shape))


@dataclass(frozen=True)
class _Plan:
    g: np.float32  # make-up gain, linear
    gain_db: float
    stretches: np.ndarray  # where the limiter's curve is under 1
    loudness: float  # of the gained, limited result


def _solve_gain(
    data: np.ndarray,
    measured: _Measured,
    envelope: np.ndarray,
    curve: np.ndarray,
    target_lufs: float,
    ceiling_lin: float,
) -> _Plan:
    """The gain that brings the limited result to ``target_lufs`` (secant steps: limiting
    makes loudness grow slower than gain), with its limiter stretches in ``curve``."""
    gain_db = min(MAX_GAIN_DB, target_lufs - measured.loudness)
    previous: tuple[float, float] | None = None
    for _ in range(_MAX_ITERATIONS):
        g = np.float32(10 ** (gain_db / 20))
        stretches = limit_into(
            curve, envelope, g, ceiling_lin, measured.samplerate,
            executor=measured.pool, pieces=measured.cores,
        )  # fmt: skip
        if not stretches.size:
            return _Plan(g, gain_db, stretches, measured.loudness + gain_db)
        loudness = measured.after_gain(data, g, curve, stretches)
        plan = _Plan(g, gain_db, stretches, loudness)
        error = target_lufs - loudness
        if abs(error) <= _LOUDNESS_TOLERANCE_LU or gain_db >= MAX_GAIN_DB:
            break
        slope = _FIRST_SLOPE
        if previous is not None and gain_db != previous[0]:
            slope = min(1.0, max(0.1, (loudness - previous[1]) / (gain_db - previous[0])))
        previous = (gain_db, loudness)
        gain_db = min(MAX_GAIN_DB, gain_db + error / slope)
    return plan


@dataclass(frozen=True)
class _Measured:
    """The mix's loudness measurement, and how to read a gained, limited version of it:
    from the compiled meter's hop energies for mono and stereo (libebur128 holds the GIL,
    so its meters could not share the cores; the two agree to 1e-6 LU), by measuring
    that version again with libebur128 for more channels."""

    loudness: float
    samplerate: int
    hops: HopEnergies | None
    pool: ThreadPoolExecutor
    cores: int

    def after_gain(
        self, data: np.ndarray, g: np.float32, curve: np.ndarray, stretches: np.ndarray
    ) -> float:
        if self.hops is not None:
            return loudness_after_gain(
                self.hops, data, g, curve, stretches, executor=self.pool, pieces=self.cores
            )
        plan = _Plan(g, 0.0, stretches, math.nan)
        return integrated_loudness_fast(_apply(data, plan, curve, None, 1), self.samplerate)


def _measure(
    data: np.ndarray, samplerate: int, pool: ThreadPoolExecutor, cores: int
) -> tuple[np.ndarray, _Measured]:
    """The true-peak envelope and the integrated loudness of ``data``, each spread over
    the cores (both kernels are compiled and release the GIL)."""
    envelope = true_peak_envelope(data, executor=pool, pieces=cores)
    if data.shape[0] > 2:
        loudness = integrated_loudness_fast(data, samplerate)
        return envelope, _Measured(loudness, samplerate, None, pool, cores)
    hops = hop_energies(data, samplerate, executor=pool, pieces=cores)
    return envelope, _Measured(hops.loudness, samplerate, hops, pool, cores)


def _apply(
    data: np.ndarray,
    plan: _Plan,
    curve: np.ndarray,
    pool: ThreadPoolExecutor | None,
    cores: int,
    *,
    overwrite: bool = False,
) -> np.ndarray:
    """``data * g``, times the limiter's curve in its stretches (float32; in ``data``
    itself when ``overwrite``)."""
    out = data if overwrite else np.empty_like(data)
    return apply_gain(data, plan.g, curve, plan.stretches, out, executor=pool, pieces=cores)


def _verified(
    y: np.ndarray,
    envelope: np.ndarray,
    plan: _Plan,
    ceiling: float,
    scratch: np.ndarray,
    measured: _Measured,
) -> MasterResult:
    """The result, its true peak measured on ``y`` (see
    :func:`.true_peak.true_peak_after_gain`); over the ceiling, turned down to it."""
    peak = 0.0
    if y.size:
        peak = true_peak_after_gain(
            y, envelope, plan.g, plan.stretches, scratch=scratch,
            executor=measured.pool, pieces=measured.cores,
        )  # fmt: skip
    loudness = plan.loudness
    if peak > ceiling:  # the limiter's margin fell short: a plain gain trim, exact in dB
        trim = np.float32(ceiling / peak)
        y *= trim
        peak *= float(trim)
        loudness += 20 * math.log10(float(trim))
    return MasterResult(
        audio=y,
        integrated_lufs=loudness,
        true_peak_dbtp=20 * math.log10(peak) if peak > 0 else -math.inf,
        gain_db=plan.gain_db,
        limited=bool(plan.stretches.size),
    )
