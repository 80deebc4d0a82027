"""Tempo/key changes in pieces on several cores: the join is exact bookkeeping, and a seam
is no worse than another valid Rubber Band rendering of the same passage."""

from __future__ import annotations

import numpy as np
import pedalboard
import pytest
from scipy import signal

from remixing.engine import mixing, stretch
from remixing.engine.synth import synth_track

SR = 44100


@pytest.fixture(scope="module")
def passage() -> np.ndarray:
    """12 s of a synthesised song (drums, bass, pad, voice): two 6 s pieces."""
    song = synth_track(seed=5, bpm=112, key="D minor", duration_s=20, samplerate=SR)
    return np.ascontiguousarray(song["mix"][:, 2 * SR : 14 * SR])


def _one_pass(ratio: float, semitones: int):
    def run(audio: np.ndarray) -> np.ndarray:
        out = pedalboard.time_stretch(
            audio, float(SR), stretch_factor=ratio, pitch_shift_in_semitones=float(semitones),
            high_quality=True, preserve_formants=True,
        )  # fmt: skip
        return np.asarray(out, dtype=np.float32)

    return run


def _db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-20))


def _log_spectral_distance(a: np.ndarray, b: np.ndarray) -> float:
    """RMS difference of the two STFT magnitudes in dB, floored 60 dB under their peak."""
    _, _, sa = signal.stft(a.mean(axis=0), nperseg=2048, noverlap=1536)
    _, _, sb = signal.stft(b.mean(axis=0), nperseg=2048, noverlap=1536)
    ma, mb = np.abs(sa), np.abs(sb)
    floor = max(ma.max(), mb.max()) * 1e-3
    diff = 20 * np.log10(np.maximum(ma, floor)) - 20 * np.log10(np.maximum(mb, floor))
    return float(np.sqrt(np.mean(np.square(diff))))


def test_identity_pieces_join_back_to_the_input():
    """With a stretch that changes nothing, every piece is the input itself: the joined
    result must be the input, sample for sample (no gap, no doubled sample, no level
    change in any crossfade)."""
    rng = np.random.default_rng(3)
    audio = (0.1 * rng.standard_normal((2, 9 * SR))).astype(np.float32)
    joined = stretch.stretch_in_pieces(
        audio, SR, 1.0, lambda piece: piece.copy(), workers=3, expected_length=audio.shape[-1],
        min_piece_s=2.0,
    )  # fmt: skip
    assert joined.shape == audio.shape
    np.testing.assert_allclose(joined, audio, atol=1e-6)


def test_piece_count_follows_cores_and_length():
    assert stretch.piece_count(180 * SR, SR, workers=2) == 2
    assert stretch.piece_count(180 * SR, SR, workers=1) == 1
    assert stretch.piece_count(180 * SR, SR, workers=64) == stretch.MAX_PIECES
    assert stretch.piece_count(30 * SR, SR, workers=4) == 1  # pieces of 20 s at least


def test_seam_is_in_a_quiet_stretch():
    audio = np.full((2, 10 * SR), 0.5, dtype=np.float32)
    audio[:, int(5.8 * SR) : int(6.2 * SR)] = 0.0  # 400 ms of silence near the middle
    (cut,) = stretch.seams(audio, SR, 2)
    assert 5.8 * SR + 0.08 * SR <= cut <= 6.2 * SR - 0.08 * SR


@pytest.mark.parametrize(("ratio", "semitones"), [(1.1, 2), (0.92, -1), (1.25, 0)])
def test_seam_is_no_worse_than_another_rendering(passage, ratio, semitones):
    run = _one_pass(ratio, semitones)
    whole = run(passage)
    joined = stretch.stretch_in_pieces(
        passage, SR, ratio, run, workers=2, expected_length=round(passage.shape[-1] / ratio),
        min_piece_s=5.0,
    )  # fmt: skip
    assert joined.shape == whole.shape
    (cut_in,) = stretch.seams(passage, SR, 2)
    cut = round(cut_in / ratio)
    # Before the seam (less R3's ~1 s look-ahead), the one-pass output itself.
    np.testing.assert_array_equal(joined[:, : cut - SR], whole[:, : cut - SR])

    half, wide = int(0.025 * SR), int(0.1 * SR)
    near = slice(cut - half, cut + half)
    # No level dip or bump across the crossfade (two uncorrelated renderings summed with
    # the wrong law would show up to 3 dB).
    assert abs(_db(joined[:, near]) - _db(whole[:, near])) < 1.0
    # No click: a discontinuity is broadband; above 10 kHz the seam carries no more energy
    # (relative to its level) than the one-pass rendering at the same place.
    highpass = signal.butter(4, 10000, "highpass", fs=SR, output="sos")

    def hf_share(audio: np.ndarray) -> float:
        hf = signal.sosfilt(highpass, audio[:, cut - wide : cut + wide])
        return _db(hf[:, wide - half : wide + half]) - _db(audio[:, near])

    assert hf_share(joined) <= max(hf_share(whole), -60.0) + 3.0

    # Spectrally, the seam is as close to the one-pass rendering as the later piece is
    # anywhere else (where it is a valid rendering with other phases).
    def distance(at: int) -> float:
        span = slice(at - wide, at + wide)
        return _log_spectral_distance(joined[:, span], whole[:, span])

    elsewhere = [distance(cut + int(s * SR)) for s in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)]
    assert distance(cut) <= max(elsewhere)


def test_mixing_uses_pieces_for_long_audio(monkeypatch):
    calls: list[int] = []
    real = pedalboard.time_stretch

    def counting(audio, *args, **kwargs):
        calls.append(audio.shape[-1])
        return real(audio, *args, **kwargs)

    monkeypatch.setattr(pedalboard, "time_stretch", counting)
    monkeypatch.setattr(stretch, "MIN_PIECE_S", 4.0)
    audio = (0.1 * np.random.default_rng(1).standard_normal((2, 12 * SR))).astype(np.float32)
    out = mixing.stretch_and_shift(audio, SR, 1.5, 0, workers=2)
    assert len(calls) == 2 and max(calls) < audio.shape[-1]
    assert out.shape == (2, round(audio.shape[-1] / 1.5))
    calls.clear()
    mixing.stretch_and_shift(audio, SR, 1.5, 0, workers=1)
    assert calls == [audio.shape[-1]]
