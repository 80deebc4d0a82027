"""Mixing arithmetic: dB gains, mute/solo semantics, alignment, region and fades."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remixing.engine import mixing
from remixing.engine.recipe import Region, StemSettings, db_to_gain, recipe_validate

SR = 44100


def dc(value: float, n: int = 100, channels: int = 2) -> np.ndarray:
    return np.full((channels, n), value, dtype=np.float32)


@pytest.mark.parametrize(
    ("db", "gain"), [(0, 1.0), (-6.0206, 0.5), (6.0206, 2.0), (-20, 0.1), (-60, 0.001), (12, 3.981)]
)
def test_db_to_gain(db, gain):
    assert db_to_gain(db) == pytest.approx(gain, rel=1e-3)


@settings(max_examples=100, deadline=None)
@given(st.floats(-60, 12), st.floats(-60, 12))
def test_gains_multiply_like_decibels_add(a, b):
    assert db_to_gain(a) * db_to_gain(b) == pytest.approx(db_to_gain(a + b), rel=1e-9)


def gains(**settings: StemSettings) -> dict[str, float]:
    return mixing.stem_gains(settings)


def test_mute_and_solo_semantics():
    s = StemSettings
    assert gains(a=s(), b=s(-6.0206)) == pytest.approx({"a": 1.0, "b": 0.5}, rel=1e-4)
    assert gains(a=s(mute=True), b=s()) == {"a": 0.0, "b": 1.0}
    # Any solo silences every non-soloed stem.
    assert gains(a=s(solo=True), b=s(), c=s(6)) == {"a": 1.0, "b": 0.0, "c": 0.0}
    # Several solos play together, with their own gains.
    assert gains(a=s(solo=True), b=s(-20, solo=True), c=s()) == pytest.approx(
        {"a": 1.0, "b": 0.1, "c": 0.0}
    )
    # Mute beats solo.
    assert gains(a=s(solo=True, mute=True), b=s()) == {"a": 0.0, "b": 0.0}


def test_mix_is_gain_weighted_sum():
    stems = {"a": dc(0.2), "b": dc(0.1), "c": dc(0.3)}
    mix = mixing.mix_stems(stems, {"a": 1.0, "b": 0.5, "c": 0.0})
    np.testing.assert_allclose(mix, 0.25, rtol=1e-6)
    assert mix.dtype == np.float32


def test_recipe_to_mix_end_to_end():
    recipe = recipe_validate(
        {"version": 1, "stems": {"vocals": {"gain_db": -6.0206}, "drums": {"mute": True}}},
        stems=("drums", "bass", "vocals"),
    )
    settings_ = mixing.effective_stem_settings(recipe, ["drums", "bass", "vocals"])
    mix = mixing.mix_stems(
        {"drums": dc(0.5), "bass": dc(0.1), "vocals": dc(0.4)}, mixing.stem_gains(settings_)
    )
    np.testing.assert_allclose(mix, 0.1 + 0.2, rtol=1e-4)


def test_recipe_changing_a_missing_stem_is_an_error():
    recipe = recipe_validate(
        {"version": 1, "stems": {"vocals": {"mute": True}}}, stems=("drums", "vocals")
    )
    with pytest.raises(mixing.MixError, match="vocals"):
        mixing.effective_stem_settings(recipe, ["drums"])


def test_align_pads_and_upmixes():
    aligned = mixing.align_stems({"mono": np.ones(50, np.float32), "stereo": dc(0.5, 80)})
    assert aligned["mono"].shape == aligned["stereo"].shape == (2, 80)
    assert aligned["mono"][:, 50:].sum() == 0 and aligned["mono"][:, :50].min() == 1.0
    with pytest.raises(mixing.MixError):
        mixing.align_stems({"a": dc(0.1, channels=3), "b": dc(0.1, channels=2)})


def test_cut_region():
    audio = np.arange(10 * SR, dtype=np.float32)[np.newaxis, :]
    cut = mixing.cut_region(audio, SR, Region(2.0, 3.5))
    assert cut.shape[-1] == int(1.5 * SR) and cut[0, 0] == 2 * SR
    # Past the end: cut at the end; entirely past: readable error.
    assert mixing.cut_region(audio, SR, Region(9.0, 20.0)).shape[-1] == SR
    with pytest.raises(mixing.MixError, match=r"only 10\.00 s long"):
        mixing.cut_region(audio, SR, Region(11.0, 12.0))


def test_fades_are_smooth_and_clamped():
    audio = dc(1.0, SR)
    out = mixing.apply_fades(audio, SR, 0.1, 0.2)
    assert out[0, 0] == 0.0 and out[0, -1] == pytest.approx(0.0, abs=1e-6)
    assert out[0, int(0.1 * SR)] == 1.0 and out[0, SR // 2] == 1.0
    assert np.all(np.diff(out[0, : int(0.1 * SR)]) >= 0)  # monotonic fade-in
    assert audio[0, 0] == 1.0  # input untouched
    long = mixing.apply_fades(audio, SR, 5.0, 0.0)  # longer than the audio: clamped
    assert long.shape == audio.shape and long[0, -1] == pytest.approx(1.0)


def test_identity_stretch_is_a_no_op():
    audio = dc(0.3, 1000)
    assert mixing.stretch_and_shift(audio, SR, 1.0, 0) is audio


def test_effects_board_order():
    recipe = recipe_validate(
        {
            "version": 1,
            "effects": {
                "highpass_hz": 50,
                "lowpass_hz": 9000,
                "reverb": {"room_size": 0.3, "wet": 0.2},
                "compressor": {"threshold_db": -10, "ratio": 3},
                "delay": {"seconds": 0.1, "feedback": 0.2, "mix": 0.3},
            },
        },
        stems=(),
    )
    board = mixing.effects_board(recipe.effects)
    assert board is not None
    names = [type(p).__name__ for p in board]
    assert names == [
        "HighpassFilter",
        "HighpassFilter",  # two first-order sections: 12 dB/octave
        "LowpassFilter",
        "LowpassFilter",
        "Compressor",
        "Delay",
        "Reverb",
    ]
    assert mixing.effects_board(recipe_validate({"version": 1}, stems=()).effects) is None


def test_lowpass_removes_highs():
    t = np.arange(SR) / SR
    tone = np.stack([np.sin(2 * np.pi * 8000 * t)] * 2).astype(np.float32)
    recipe = recipe_validate({"version": 1, "effects": {"lowpass_hz": 500}}, stems=())
    out = mixing.apply_effects(tone, SR, recipe.effects)
    # 4 octaves above the cutoff at 12 dB/octave: about -48 dB.
    assert np.sqrt(np.mean(out[:, SR // 2 :] ** 2)) < 0.01 * np.sqrt(np.mean(tone**2))
