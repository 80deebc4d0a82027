"""Compile librosa's numba kernels once, in one process, before others start.

numba caches a ``@guvectorize`` kernel on disk as two files written one after the other;
processes compiling the same kernels at the same moment can leave a pair made by two
different processes, and the next process to load that pair crashes with SIGSEGV
(numba issue #10128). On a fresh install that is exactly what happens when a Celery pool,
or the test runner's workers, first reach beat tracking together. So whatever is about to
start several processes calls :func:`numba_cache_warm` first, alone: the install script,
the Docker build, the Celery worker before it forks its pool, the test runner before it
starts its workers. Once the cache is warm, every later process only loads it.
"""

from __future__ import annotations

import numpy as np

from remixing.engine.analysis import true_peak_envelope
from remixing.engine.embedded import separate_embedded
from remixing.engine.loudness import integrated_loudness
from remixing.engine.mastering import normalise_loudness
from remixing.engine.structure import analyse_structure

WARMUP_SAMPLERATE = 22050
WARMUP_SECONDS = 6.0


def _warmup_audio() -> np.ndarray:
    """Clicks on a 120 bpm grid over a chord: enough beats for sections and bars."""
    n = int(WARMUP_SAMPLERATE * WARMUP_SECONDS)
    t = np.arange(n, dtype=np.float32) / WARMUP_SAMPLERATE
    tone = 0.2 * np.sin(2 * np.pi * 220.0 * t) + 0.1 * np.sin(2 * np.pi * 330.0 * t)
    clicks = np.zeros(n, dtype=np.float32)
    step = WARMUP_SAMPLERATE // 2
    clicks[::step] = 0.9
    mono = (tone + clicks).astype(np.float32)
    return np.stack([mono, mono])


def numba_cache_warm() -> None:
    """Run every librosa path the engine uses once, on a few seconds of synthetic audio,
    and the render's own kernels (the mastering's true-peak envelope and loudness meter,
    and what a limited master adds: the re-measure of limited hops, the final peak)."""
    stereo = _warmup_audio()
    separate_embedded(stereo, WARMUP_SAMPLERATE)
    analyse_structure(stereo.mean(axis=0), WARMUP_SAMPLERATE)
    true_peak_envelope(stereo)
    integrated_loudness(stereo, WARMUP_SAMPLERATE)
    normalise_loudness(stereo, WARMUP_SAMPLERATE)  # its clicks need the limiter
