"""Stems keep every sample: a stem above full scale is not clipped."""

from __future__ import annotations

import numpy as np

from remixing.audio import lossless_suffix, write_stem
from remixing.engine.audio_io import load_audio


def test_a_stem_above_full_scale_is_kept_as_float_wav_without_clipping(tmp_path):
    sr = 44100
    t = np.arange(sr // 2) / sr
    loud = np.stack([1.4 * np.sin(2 * np.pi * 220 * t)] * 2).astype(np.float32)
    suffix = lossless_suffix(loud)
    assert suffix == ".wav"
    lossless = tmp_path / f"vocals{suffix}"
    write_stem(
        loud, sr, lossless=lossless, preview=tmp_path / "v.opus", preview_mp3=tmp_path / "v.mp3"
    )
    back, back_sr = load_audio(lossless)
    assert back_sr == sr
    assert np.max(np.abs(back)) > 1.3
    assert np.allclose(back, loud, atol=1e-6)


def test_an_ordinary_stem_is_flac(tmp_path):
    quiet = (0.5 * np.ones((2, 1000))).astype(np.float32)
    assert lossless_suffix(quiet) == ".flac"
