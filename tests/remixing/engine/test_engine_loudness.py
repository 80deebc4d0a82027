"""The compiled BS.1770-4 meter the mastering loop uses is libebur128's measurement."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from remixing.engine import analysis, loudness
from remixing.engine.synth import synth_track


def _signals(samplerate: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(samplerate)
    n = 30 * samplerate
    song = synth_track(seed=3, bpm=118, key="E minor", duration_s=20, samplerate=samplerate)
    return {
        "rising noise": (rng.standard_normal((2, n)) * np.linspace(0.001, 0.3, n)),
        "song": song["mix"],
        "mono": 0.1 * rng.standard_normal((1, 5 * samplerate)),
        # The relative gate at work: a near-silent half that must not count.
        "quiet then loud": np.concatenate(
            [1e-5 * rng.standard_normal((2, n // 2)), 0.2 * rng.standard_normal((2, n // 2))],
            axis=1,
        ),
        "just one block": 0.1 * rng.standard_normal((2, int(0.45 * samplerate))),
    }


@pytest.mark.parametrize("samplerate", [44100, 48000])
def test_compiled_meter_is_libebur128(samplerate):
    with ThreadPoolExecutor(3) as pool:
        for name, audio in _signals(samplerate).items():
            audio = audio.astype(np.float32)
            reference = analysis.integrated_loudness_fast(audio, samplerate)
            assert loudness.integrated_loudness(audio, samplerate) == pytest.approx(
                reference, abs=1e-6
            ), name
            for pieces in (2, 3):
                spread = loudness.integrated_loudness(
                    audio, samplerate, executor=pool, pieces=pieces
                )
                assert spread == pytest.approx(reference, abs=1e-6), (name, pieces)


def test_silence_and_too_short_have_no_loudness():
    assert loudness.integrated_loudness(np.zeros((2, 44100), np.float32), 44100) == -math.inf
    assert loudness.integrated_loudness(np.ones((2, 1000), np.float32), 44100) == -math.inf


@pytest.mark.parametrize("pieces", [1, 2, 3])
def test_loudness_after_gain_is_the_meters_reading_of_that_audio(pieces):
    """A gained, limited version of measured audio, read from the measurement with only
    the hops the curve changes filtered again, is what the meter reads on that audio."""
    song = synth_track(seed=5, bpm=124, key="G minor", duration_s=20, samplerate=44100)
    audio = song["mix"].astype(np.float32)
    n = audio.shape[-1]
    with ThreadPoolExecutor(3) as pool:
        measured = loudness.hop_energies(audio, 44100, executor=pool, pieces=pieces)
        rng = np.random.default_rng(pieces)
        for trial in range(6):
            g = np.float32(rng.uniform(0.2, 4.0))
            bounds = np.sort(rng.choice(n, size=2 * int(rng.integers(0, 40)), replace=False))
            if trial == 1:
                bounds = np.array([0, 300, n - 5000, n])  # both ends, the unmeasured tail too
            stretches = bounds.reshape(-1, 2)
            curve = np.full(n, np.nan, dtype=np.float32)  # never read outside the stretches
            ones = np.ones(n, dtype=np.float32)
            for a, b in stretches:
                curve[a:b] = ones[a:b] = rng.uniform(0.1, 1.0, size=b - a)
            expected = loudness.integrated_loudness(audio * (g * ones), 44100)
            got = loudness.loudness_after_gain(measured, audio, g, curve, stretches)
            assert got == pytest.approx(expected, abs=1e-6), (trial, stretches.shape)
            spread = loudness.loudness_after_gain(
                measured, audio, g, curve, stretches, executor=pool, pieces=pieces
            )
            assert spread == got, (trial, pieces)
