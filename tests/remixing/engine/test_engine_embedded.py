"""The embedded separator on short synthetic mixes with known stems (no weights, offline)."""

from __future__ import annotations

import numpy as np
import pytest

from remixing.engine import backends
from remixing.engine.embedded import (
    EMBEDDED_MODEL,
    STEMS,
    EmbeddedSeparationError,
    separate_embedded,
)

SR = 44100


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Plain signal-to-distortion ratio in dB (no allowed filtering: stricter than BSS Eval)."""
    error = np.sum((reference - estimate) ** 2)
    return float(10 * np.log10(np.sum(reference**2) / max(error, 1e-12)))


@pytest.fixture(scope="module")
def separated(short_stems) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[float]]:
    mix = sum(short_stems.values())
    fractions: list[float] = []
    return separate_embedded(mix, SR, fractions.append), {**short_stems, "mix": mix}, fractions


def test_four_stems_with_the_mix_shape_that_sum_back_to_it(separated):
    stems, truth, fractions = separated
    assert tuple(stems) == STEMS
    for audio in stems.values():
        assert audio.shape == truth["mix"].shape and audio.dtype == np.float32
    assert np.max(np.abs(sum(stems.values()) - truth["mix"])) < 1e-5
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_drums_and_bass_beat_the_quarter_mix_baseline(separated):
    stems, truth, _ = separated
    for name in ("drums", "bass"):
        baseline = sdr(truth[name], truth["mix"] / 4)
        assert sdr(truth[name], stems[name]) > baseline + 1.0, name
    # Every stem is audible: no near-silent output like an untrained network's.
    for name in STEMS:
        assert np.sqrt(np.mean(stems[name] ** 2)) > 0.1 * np.sqrt(np.mean(truth[name] ** 2))


def test_mono_and_bad_input():
    mono = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    stems = separate_embedded(mono, SR)
    assert stems["drums"].shape == (1, SR)
    with pytest.raises(EmbeddedSeparationError):
        separate_embedded(np.zeros((2, 0), dtype=np.float32), SR)
    with pytest.raises(EmbeddedSeparationError):
        separate_embedded(np.full((2, 100), np.nan, dtype=np.float32), SR)


def test_model_name_matches_the_backend_table():
    # backends repeats the name so that choosing a backend never imports librosa.
    assert backends.EMBEDDED_MODEL == EMBEDDED_MODEL
