"""Re-arranging: validation, and rendering that puts every section's first sample where it
belongs (within one sample), crossfades each join over exactly crossfade_ms, and lasts
exactly as long as the sections add up."""

from __future__ import annotations

import numpy as np
import pytest

from remixing.engine.arrangement import (
    Arrangement,
    ArrangementError,
    Section,
    arrangement_validate,
    render_arrangement,
)
from remixing.engine.recipe import (
    RecipeError,
    recipe_forbidden_transformations,
    recipe_to_dict,
    recipe_validate,
)
from remixing.engine.render import render_mix

SR = 44100
FOUR = ("drums", "bass", "other", "vocals")


def _ramp(seconds: float, channels: int = 2) -> np.ndarray:
    """Each sample's value is its own index: where a sample came from is readable."""
    n = round(seconds * SR)
    return np.tile(np.arange(n, dtype=np.float64), (channels, 1))


def test_hard_cuts_put_each_section_exactly_in_place():
    audio = _ramp(10.0)
    plan = Arrangement((Section(4.0, 6.0), Section(0.5, 1.25), Section(4.0, 6.0)), crossfade_ms=0)
    out = render_arrangement(audio.astype(np.float32), SR, plan)
    assert out.shape == (2, round(2.0 * SR) + round(0.75 * SR) + round(2.0 * SR))
    joins = [0, round(2.0 * SR), round(2.0 * SR) + round(0.75 * SR)]
    starts = [round(4.0 * SR), round(0.5 * SR), round(4.0 * SR)]
    for join, start in zip(joins, starts, strict=True):
        assert out[0, join] == start  # the section's first sample, exactly at the join
    assert out[0, joins[1] - 1] == round(6.0 * SR) - 1  # the previous one's last sample


def test_crossfade_covers_exactly_crossfade_ms_and_keeps_the_length():
    # Two constant signals make the fade readable: 1.0 before the join, 3.0 after it.
    audio = np.zeros((1, 8 * SR), dtype=np.float32)
    audio[:, : 4 * SR] = 1.0
    audio[:, 4 * SR :] = 3.0
    plan = Arrangement((Section(0.0, 2.0), Section(5.0, 7.0)), crossfade_ms=20)
    out = render_arrangement(audio, SR, plan)[0]
    fade = round(0.020 * SR)  # 882 samples
    join = 2 * SR
    assert out.shape[-1] == 4 * SR  # exactly the two sections
    assert np.all(out[:join] == 1.0)  # untouched before the join
    assert np.all(out[join + fade :] == 3.0)  # untouched after the crossfade
    mixed = out[join : join + fade]
    assert np.all((mixed != 1.0) & (mixed != 3.0))  # every crossfade sample is a blend
    t = (np.arange(fade) + 0.5) / fade
    expected = 3.0 * np.sin(0.5 * np.pi * t) + 1.0 * np.cos(0.5 * np.pi * t)  # equal power
    assert np.allclose(mixed, expected, atol=1e-5)


def test_contiguous_sections_are_not_crossfaded_and_identity_is_lossless():
    audio = _ramp(3.0).astype(np.float32)
    plan = Arrangement((Section(0.0, 1.0), Section(1.0, 3.0)), crossfade_ms=50)
    assert np.array_equal(render_arrangement(audio, SR, plan), audio)


def test_a_section_ending_at_the_track_end_fades_into_silence():
    audio = np.ones((1, 2 * SR), dtype=np.float32)
    plan = Arrangement((Section(1.0, 2.0), Section(0.0, 1.0)), crossfade_ms=10)
    out = render_arrangement(audio, SR, plan)[0]
    fade = round(0.010 * SR)
    t = (np.arange(fade) + 0.5) / fade
    assert np.allclose(out[SR : SR + fade], np.sin(0.5 * np.pi * t), atol=1e-6)
    assert out.shape[-1] == 2 * SR


def test_validation_names_every_problem():
    with pytest.raises(ArrangementError) as error:
        arrangement_validate(
            {
                "version": 2,
                "crossfade_ms": 500,
                "sections": [
                    {"start_s": 0, "end_s": 0.1},
                    {"start_s": 1, "end_s": 99},
                    {"start_s": "a", "end_s": 2},
                    {"start_s": 0.3, "end_s": 2.0},
                ],
                "tempo": 1,
            },
            duration_s=10.0,
            bars=[0.5, 2.0, 4.0],
        )
    paths = [path for path, _ in error.value.errors]
    assert paths == [
        "arrangement.tempo",
        "arrangement.version",
        "arrangement.crossfade_ms",
        "arrangement.sections.0",
        "arrangement.sections.1.end_s",
        "arrangement.sections.2",
        "arrangement.sections.3",  # 0.3 is not on a bar
    ]
    ok = arrangement_validate(
        {"version": 1, "sections": [{"start_s": 2.0, "end_s": 4.0}, {"start_s": 0, "end_s": 2.0}]},
        duration_s=10.0,
        bars=[0.5, 2.0, 4.0],
    )
    assert ok.crossfade_ms == 20.0 and len(ok.sections) == 2


def test_recipe_carries_a_versioned_arrangement_and_its_term():
    data = {
        "version": 1,
        "arrangement": {"version": 1, "crossfade_ms": 15, "sections": [{"start_s": 2, "end_s": 4}]},
    }
    recipe = recipe_validate(data, stems=FOUR, duration_s=10.0)
    assert recipe_to_dict(recipe)["arrangement"] == {
        "version": 1,
        "crossfade_ms": 15.0,
        "sections": [{"start_s": 2.0, "end_s": 4.0}],
    }
    # A recipe without one keeps its old canonical form.
    assert "arrangement" not in recipe_to_dict(recipe_validate({"version": 1}, stems=FOUR))
    # Terms can forbid it; a term missing from the catalog's terms counts as forbidden.
    allowed = dict.fromkeys(["stem_volume", "tempo", "key", "effects"], True)
    refusals = {"arrangement": "Re-arranging is not allowed by the artist's terms."}
    assert recipe_forbidden_transformations(recipe, allowed=allowed, refusals=refusals) == [
        ("arrangement", "Re-arranging is not allowed by the artist's terms.")
    ]
    everything = allowed | {"arrangement": True}
    assert recipe_forbidden_transformations(recipe, allowed=everything, refusals=refusals) == []
    with pytest.raises(RecipeError) as both:
        recipe_validate(data | {"region": {"start_s": 0, "end_s": 1}}, stems=FOUR, duration_s=10.0)
    assert ("region", "choose an export region or an arrangement, not both") in both.value.errors
    with pytest.raises(RecipeError) as long_fade:
        recipe_validate(data | {"fade_out_s": 3.0}, stems=FOUR, duration_s=10.0)
    assert long_fade.value.errors[0][0] == "fade_out_s"  # longer than the 2 s arrangement


def test_render_mix_follows_the_arrangement_sample_accurately():
    stems = {name: np.zeros((2, 6 * SR), dtype=np.float32) for name in FOUR}
    stems["bass"][:] = np.arange(6 * SR, dtype=np.float32) / (6 * SR)  # a readable ramp
    recipe = {
        "version": 1,
        "arrangement": {
            "version": 1,
            "crossfade_ms": 0,
            "sections": [{"start_s": 3.0, "end_s": 4.5}, {"start_s": 1.0, "end_s": 2.0}],
        },
    }
    out = render_mix(stems, recipe, samplerate=SR)
    assert out.shape[-1] == round(1.5 * SR) + SR
    ramp = stems["bass"][0]
    join = round(1.5 * SR)
    assert out[0, 0] == pytest.approx(ramp[3 * SR], abs=1e-7)
    assert out[0, join] == pytest.approx(ramp[SR], abs=1e-7)
    assert out[0, join - 1] == pytest.approx(ramp[round(4.5 * SR) - 1], abs=1e-7)
