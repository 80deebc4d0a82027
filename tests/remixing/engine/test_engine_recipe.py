"""Recipe validation: field paths, ranges, unknown keys, round trips, property tests."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remixing.engine.recipe import (
    Recipe,
    RecipeError,
    StemSettings,
    recipe_to_dict,
    recipe_validate,
)

STEMS = ("drums", "bass", "other", "vocals")


def errors_of(data, *, stems=STEMS, duration_s=None) -> list[tuple[str, str]]:
    with pytest.raises(RecipeError) as info:
        recipe_validate(data, stems=stems, duration_s=duration_s)
    return info.value.errors


def paths_of(data, **kwargs) -> set[str]:
    return {path for path, _ in errors_of(data, **kwargs)}


def test_minimal_recipe_means_no_change():
    recipe = recipe_validate({"version": 1}, stems=STEMS, duration_s=30)
    assert recipe.tempo_ratio == 1.0 and recipe.key_shift == 0 and recipe.region is None
    assert set(recipe.stems) == set(STEMS)
    assert all(s == StemSettings() for s in recipe.stems.values())


def test_full_recipe_round_trips():
    data = {
        "version": 1,
        "stems": {
            "vocals": {"gain_db": -3.5, "mute": False, "solo": True},
            "drums": {"mute": True},
        },
        "tempo_ratio": 1.25,
        "key_shift": -3,
        "effects": {
            "highpass_hz": 40,
            "lowpass_hz": 12000,
            "reverb": {"room_size": 0.5, "wet": 0.3},
            "compressor": {"threshold_db": -20, "ratio": 4},
            "delay": {"seconds": 0.25, "feedback": 0.4, "mix": 0.2},
        },
        "fade_in_s": 1.0,
        "fade_out_s": 2.5,
        "region": {"start_s": 10, "end_s": 40},
    }
    recipe = recipe_validate(data, stems=STEMS, duration_s=60)
    assert recipe.stems["vocals"] == StemSettings(-3.5, False, True)
    assert recipe.stems["drums"].mute
    assert recipe.effects.reverb is not None and recipe.effects.reverb.wet == 0.3
    again = recipe_validate(recipe_to_dict(recipe), stems=STEMS, duration_s=60)
    assert again == recipe
    assert hash(again) == hash(recipe)


def test_recipe_is_immutable():
    recipe = recipe_validate({"version": 1}, stems=STEMS)
    with pytest.raises(AttributeError):
        recipe.tempo_ratio = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        recipe.stems["vocals"] = StemSettings()  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        ({"stems": {"vocals": {"gain_db": 13}}}, "stems.vocals.gain_db", "between -60 and 12"),
        ({"stems": {"vocals": {"gain_db": -61}}}, "stems.vocals.gain_db", "between -60 and 12"),
        ({"stems": {"vocals": {"gain_db": "loud"}}}, "stems.vocals.gain_db", "number"),
        ({"stems": {"vocals": {"gain_db": True}}}, "stems.vocals.gain_db", "number"),
        ({"stems": {"vocals": {"mute": 1}}}, "stems.vocals.mute", "true or false"),
        ({"stems": {"vocals": {"solo": "yes"}}}, "stems.vocals.solo", "true or false"),
        ({"stems": {"vocals": {"pan": 0.5}}}, "stems.vocals.pan", "unknown field"),
        ({"stems": {"guitar": {"gain_db": 1}}}, "stems.guitar", "unknown stem"),
        ({"stems": {"vocals": 3}}, "stems.vocals", "object"),
        ({"stems": []}, "stems", "object"),
        ({"tempo_ratio": 0.49}, "tempo_ratio", "between 0.5 and 2"),
        ({"tempo_ratio": 2.01}, "tempo_ratio", "between 0.5 and 2"),
        ({"tempo_ratio": float("nan")}, "tempo_ratio", "finite"),
        ({"key_shift": 13}, "key_shift", "between -12 and 12"),
        ({"key_shift": 1.5}, "key_shift", "whole number"),
        ({"effects": {"highpass_hz": 10}}, "effects.highpass_hz", "between 20 and 20000"),
        ({"effects": {"lowpass_hz": 20001}}, "effects.lowpass_hz", "between 20 and 20000"),
        (
            {"effects": {"highpass_hz": 500, "lowpass_hz": 400}},
            "effects.lowpass_hz",
            "above effects.highpass_hz",
        ),
        (
            {"effects": {"reverb": {"room_size": 1.5, "wet": 0.1}}},
            "effects.reverb.room_size",
            "0 and 1",
        ),
        ({"effects": {"reverb": {"room_size": 0.5}}}, "effects.reverb.wet", "required"),
        (
            {"effects": {"reverb": {"room_size": 0.5, "wet": 0.1, "x": 1}}},
            "effects.reverb.x",
            "unknown",
        ),
        (
            {"effects": {"compressor": {"threshold_db": 3, "ratio": 2}}},
            "effects.compressor.threshold_db",
            "between -60 and 0",
        ),
        (
            {"effects": {"compressor": {"threshold_db": -3, "ratio": 21}}},
            "effects.compressor.ratio",
            "between 1 and 20",
        ),
        (
            {"effects": {"delay": {"seconds": 0.001, "feedback": 0.1, "mix": 0.1}}},
            "effects.delay.seconds",
            "between 0.01 and 2",
        ),
        (
            {"effects": {"delay": {"seconds": 0.1, "feedback": 0.96, "mix": 0.1}}},
            "effects.delay.feedback",
            "between 0 and 0.95",
        ),
        ({"effects": {"chorus": {}}}, "effects.chorus", "unknown field"),
        ({"fade_in_s": -1}, "fade_in_s", "at least 0"),
        ({"fade_out_s": 31}, "fade_out_s", "region length"),
        ({"region": {"start_s": 5, "end_s": 5}}, "region.end_s", "after region.start_s"),
        ({"region": {"start_s": 5, "end_s": 31}}, "region.end_s", "track length"),
        ({"region": {"start_s": -1, "end_s": 3}}, "region.start_s", "between 0"),
        ({"region": {"start_s": 1}}, "region.end_s", "required"),
        ({"bpm": 120}, "bpm", "unknown field"),
    ],
)
def test_invalid_fields_are_named(data, path, fragment):
    errors = errors_of({"version": 1, **data}, duration_s=30)
    messages = [msg for p, msg in errors if p == path]
    assert messages, f"expected an error at {path}, got {errors}"
    assert any(fragment in msg for msg in messages), messages


def test_fades_are_limited_by_the_region_not_the_track():
    data = {"version": 1, "region": {"start_s": 10, "end_s": 14}, "fade_out_s": 5}
    assert paths_of(data, duration_s=60) == {"fade_out_s"}
    data["fade_out_s"] = 4
    assert recipe_validate(data, stems=STEMS, duration_s=60).fade_out_s == 4


def test_version_is_required_and_checked():
    assert paths_of({}) == {"version"}
    assert paths_of({"version": 2}) == {"version"}
    assert paths_of({"version": True}) == {"version"}


def test_every_error_is_reported_at_once():
    data = {
        "version": 1,
        "stems": {"vocals": {"gain_db": 99}, "kazoo": {}},
        "tempo_ratio": 9,
        "key_shift": 99,
    }
    assert paths_of(data) == {"stems.vocals.gain_db", "stems.kazoo", "tempo_ratio", "key_shift"}
    with pytest.raises(RecipeError) as info:
        recipe_validate(data, stems=STEMS, duration_s=None)
    assert "stems.vocals.gain_db" in info.value.as_dict()
    assert "stems.vocals.gain_db" in str(info.value)


def test_non_object_recipe():
    assert errors_of([1, 2]) == [("", "must be an object")]


def test_region_without_known_duration():
    recipe = recipe_validate(
        {"version": 1, "region": {"start_s": 100, "end_s": 200}}, stems=STEMS, duration_s=None
    )
    assert recipe.region is not None and recipe.region.length_s == 100


# -- property tests -----------------------------------------------------------------------

finite = {"allow_nan": False, "allow_infinity": False}
stem_entry = st.fixed_dictionaries(
    {},
    optional={
        "gain_db": st.floats(-60, 12, **finite),
        "mute": st.booleans(),
        "solo": st.booleans(),
    },
)
valid_effects = st.fixed_dictionaries(
    {},
    optional={
        "highpass_hz": st.none() | st.floats(20, 1000, **finite),
        "lowpass_hz": st.none() | st.floats(2000, 20000, **finite),
        "reverb": st.none()
        | st.fixed_dictionaries(
            {"room_size": st.floats(0, 1, **finite), "wet": st.floats(0, 1, **finite)}
        ),
        "compressor": st.none()
        | st.fixed_dictionaries(
            {"threshold_db": st.floats(-60, 0, **finite), "ratio": st.floats(1, 20, **finite)}
        ),
        "delay": st.none()
        | st.fixed_dictionaries(
            {
                "seconds": st.floats(0.01, 2, **finite),
                "feedback": st.floats(0, 0.95, **finite),
                "mix": st.floats(0, 1, **finite),
            }
        ),
    },
)


@st.composite
def valid_recipes(draw):
    duration = draw(st.floats(5, 600, **finite))
    data = {
        "version": 1,
        "stems": draw(st.dictionaries(st.sampled_from(STEMS), stem_entry, max_size=4)),
        "tempo_ratio": draw(st.floats(0.5, 2.0, **finite)),
        "key_shift": draw(st.integers(-12, 12)),
        "effects": draw(valid_effects),
    }
    length = duration
    if draw(st.booleans()):
        start = draw(st.floats(0, duration - 1, **finite))
        end = draw(st.floats(start + 0.5, duration, **finite))
        data["region"] = {"start_s": start, "end_s": end}
        length = end - start
    data["fade_in_s"] = draw(st.floats(0, length, **finite))
    data["fade_out_s"] = draw(st.floats(0, length, **finite))
    return data, duration


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_recipes())
def test_valid_recipes_pass_and_round_trip(case):
    data, duration = case
    recipe = recipe_validate(data, stems=STEMS, duration_s=duration)
    assert isinstance(recipe, Recipe)
    assert recipe_validate(recipe_to_dict(recipe), stems=STEMS, duration_s=duration) == recipe


# (field path, builder of a recipe containing value v at that path, valid range)
RANGED_FIELDS = [
    ("stems.vocals.gain_db", lambda v: {"stems": {"vocals": {"gain_db": v}}}, (-60, 12)),
    ("tempo_ratio", lambda v: {"tempo_ratio": v}, (0.5, 2.0)),
    ("key_shift", lambda v: {"key_shift": v}, (-12, 12)),
    ("effects.highpass_hz", lambda v: {"effects": {"highpass_hz": v}}, (20, 20000)),
    ("effects.lowpass_hz", lambda v: {"effects": {"lowpass_hz": v}}, (20, 20000)),
    (
        "effects.reverb.room_size",
        lambda v: {"effects": {"reverb": {"room_size": v, "wet": 0.1}}},
        (0, 1),
    ),
    ("effects.reverb.wet", lambda v: {"effects": {"reverb": {"room_size": 0.1, "wet": v}}}, (0, 1)),
    (
        "effects.compressor.threshold_db",
        lambda v: {"effects": {"compressor": {"threshold_db": v, "ratio": 2}}},
        (-60, 0),
    ),
    (
        "effects.compressor.ratio",
        lambda v: {"effects": {"compressor": {"threshold_db": -10, "ratio": v}}},
        (1, 20),
    ),
    (
        "effects.delay.seconds",
        lambda v: {"effects": {"delay": {"seconds": v, "feedback": 0.1, "mix": 0.1}}},
        (0.01, 2),
    ),
    (
        "effects.delay.feedback",
        lambda v: {"effects": {"delay": {"seconds": 0.1, "feedback": v, "mix": 0.1}}},
        (0, 0.95),
    ),
    (
        "effects.delay.mix",
        lambda v: {"effects": {"delay": {"seconds": 0.1, "feedback": 0.1, "mix": v}}},
        (0, 1),
    ),
]


@st.composite
def out_of_range(draw):
    path, build, (lo, hi) = draw(st.sampled_from(RANGED_FIELDS))
    below = draw(st.booleans())
    if path == "key_shift":
        value = draw(st.integers(-1000, lo - 1) if below else st.integers(hi + 1, 1000))
    else:
        span = st.floats(1e-3, 1e6, **finite)
        value = lo - draw(span) if below else hi + draw(span)
    return path, {"version": 1, **build(value)}


@settings(max_examples=200, deadline=None)
@given(out_of_range())
def test_out_of_range_values_name_their_field(case):
    path, data = case
    errors = errors_of(data, duration_s=None)
    assert [p for p, _ in errors] == [path]
    assert "between" in errors[0][1]


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda s: s not in STEMS))
def test_unknown_stem_names_are_rejected(name):
    assert paths_of({"version": 1, "stems": {name: {"gain_db": 0}}}) == {f"stems.{name}"}


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 1000, **finite), st.floats(0.0, 2000, **finite))
def test_region_must_fit_the_track(duration, end):
    data = {"version": 1, "region": {"start_s": 0.0, "end_s": end}}
    if 0.0 < end <= duration:
        assert recipe_validate(data, stems=STEMS, duration_s=duration).region is not None
    else:
        assert "region.end_s" in paths_of(data, duration_s=duration)
    assert math.isfinite(duration)
