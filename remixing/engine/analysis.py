"""Small, dependency-light measurements used by the renderer and by tests.

All functions take audio shaped ``(channels, samples)`` (a 1-D array is treated as mono).
"""

from __future__ import annotations

import math
from concurrent.futures import Executor

import numpy as np
import pyebur128
import pyloudnorm

# Loudness meters are fed this many frames at a time (interleaved while in cache).
_FEED_BLOCK = 1 << 16


def as_2d(audio: np.ndarray) -> np.ndarray:
    """Return ``audio`` as ``(channels, samples)`` without copying when possible."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        return audio[np.newaxis, :]
    if audio.ndim != 2:
        raise ValueError(f"expected (channels, samples) audio, got shape {audio.shape}")
    return audio


def duration_s(audio: np.ndarray, samplerate: int) -> float:
    """Length of ``audio`` in seconds."""
    return float(as_2d(audio).shape[-1] / float(samplerate))


def integrated_loudness(audio: np.ndarray, samplerate: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4 gating, via pyloudnorm).

    Returns ``-inf`` for digital silence or audio shorter than one 400 ms gating block,
    because neither has a meaningful programme loudness.
    """
    data = as_2d(audio)
    if data.shape[-1] < int(0.4 * samplerate) + 1 or not np.any(data):
        return -math.inf
    meter = pyloudnorm.Meter(samplerate)
    # pyloudnorm wants (samples, channels) and filters more accurately in float64.
    return float(meter.integrated_loudness(data.T.astype(np.float64)))


def integrated_loudness_fast(audio: np.ndarray, samplerate: int) -> float:
    """The same measurement as :func:`integrated_loudness` (BS.1770-4 gating) in C,
    through libebur128: about 2x faster than pyloudnorm and without its float64
    copy; the two agree to a few hundredths of an LU. The reference the renders'
    compiled meter (:mod:`.loudness`) is tested against, and the meter for audio of
    more than two channels. Fed a block at a time, interleaved while in cache.
    """
    data = as_2d(audio)
    if data.shape[-1] < int(0.4 * samplerate) + 1 or not np.any(data):
        return -math.inf
    state = pyebur128.R128State(data.shape[0], samplerate, pyebur128.MeasurementMode.MODE_I)
    for start in range(0, data.shape[-1], _FEED_BLOCK):
        block = np.ascontiguousarray(data[:, start : start + _FEED_BLOCK].T, dtype=np.float32)
        state.add_frames(block.reshape(-1), block.shape[0])
    return float(pyebur128.get_loudness_global(state))


def sample_peak_dbfs(audio: np.ndarray) -> float:
    """Largest absolute sample value in dBFS (``-inf`` for silence)."""
    peak = float(np.max(np.abs(audio))) if np.size(audio) else 0.0
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def true_peak_envelope(
    audio: np.ndarray, *, executor: Executor | None = None, pieces: int = 1
) -> np.ndarray:
    """Per-sample true-peak magnitude across channels (max over 4x oversampled points).

    Element ``n`` is the largest reconstructed magnitude at or just after sample ``n`` on
    any channel; the limiter in :mod:`.mastering` uses this to find inter-sample overs.
    Computed by :mod:`.true_peak` (``resample_poly``'s filter, compiled, GIL released):
    with an ``executor``, ``pieces`` spans at once; the result is the same either way.
    """
    # Imported here: numba costs every process that reads or writes audio (the web
    # app included) a quarter of a second and its memory; only renders need it.
    from .true_peak import true_peak_envelope as envelope_4x

    return envelope_4x(as_2d(audio), executor=executor, pieces=pieces)


def true_peak_dbtp(audio: np.ndarray) -> float:
    """Estimated true peak in dBTP (4x oversampled, BS.1770-4 style)."""
    if np.size(audio) == 0:
        return -math.inf
    peak = float(true_peak_envelope(audio).max())
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def dominant_frequency(audio: np.ndarray, samplerate: int) -> float:
    """Frequency (Hz) of the strongest spectral peak of the channel-averaged signal.

    A Hann window plus parabolic interpolation over log magnitudes gives sub-bin accuracy,
    which tests need to tell 440 Hz from 466 Hz on a few seconds of audio.
    """
    mono = as_2d(audio).astype(np.float64).mean(axis=0)
    if mono.size < 16:
        raise ValueError("audio too short to estimate a frequency")
    window = np.hanning(mono.size)
    spectrum = np.abs(np.fft.rfft(mono * window))
    spectrum[0] = 0.0  # ignore DC
    k = int(np.argmax(spectrum))
    if 0 < k < spectrum.size - 1:
        a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-20)
        denom = a - 2 * b + c
        offset = 0.5 * (a - c) / denom if denom != 0 else 0.0
    else:
        offset = 0.0
    return float((k + offset) * samplerate / mono.size)
