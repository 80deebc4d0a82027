"""Presets produce valid recipes for the stems a track has; suggestions are explainable."""

from __future__ import annotations

import pytest

from remixing.engine.presets import (
    PRESETS,
    PresetError,
    Suggestion,
    classify_recipe,
    preset_recipe,
    preset_suggest,
    presets_for,
    tempo_ratio_for_target,
)
from remixing.engine.recipe import recipe_transformations, recipe_validate

FOUR = ("drums", "bass", "other", "vocals")
SIX = (*FOUR, "guitar", "piano")
NO_VOCALS = ("drums", "bass", "other")
REQUIRED = {"chill", "focus", "workout", "club", "lofi", "acoustic", "a_cappella", "instrumental"}


def test_required_presets_exist_with_metadata():
    assert REQUIRED <= set(PRESETS)
    for slug, preset in PRESETS.items():
        assert preset.slug == slug
        assert preset.name and preset.description and "\n" not in preset.description


@pytest.mark.parametrize("stems", [FOUR, SIX, NO_VOCALS])
@pytest.mark.parametrize("bpm", [None, 60.0, 87.0, 120.0, 135.0, 174.0, 300.0])
def test_presets_validate_and_respect_stems(stems, bpm):
    for preset in presets_for(stems):
        data = preset_recipe(preset.slug, stems=stems, source_tempo_bpm=bpm)
        assert set(data.get("stems", {})) <= set(stems)
        recipe = recipe_validate(data, stems=stems, duration_s=120)
        assert 0.5 <= recipe.tempo_ratio <= 2.0


def test_vocal_presets_need_vocals():
    assert {p.slug for p in presets_for(NO_VOCALS)} == REQUIRED - {"a_cappella", "instrumental"}
    with pytest.raises(PresetError, match="needs stems: vocals"):
        preset_recipe("a_cappella", stems=NO_VOCALS, source_tempo_bpm=None)
    with pytest.raises(PresetError, match="unknown preset"):
        preset_recipe("polka", stems=FOUR, source_tempo_bpm=None)


def test_preset_intent():
    a_cappella = recipe_validate(preset_recipe("a_cappella", stems=FOUR), stems=FOUR)
    assert a_cappella.audible_stems().keys() == {"vocals"}
    assert "vocals_isolated" in recipe_transformations(a_cappella)

    instrumental = recipe_validate(preset_recipe("instrumental", stems=FOUR), stems=FOUR)
    assert instrumental.audible_stems().keys() == {"drums", "bass", "other"}
    assert "vocals_removed" in recipe_transformations(instrumental)

    lofi = recipe_validate(preset_recipe("lofi", stems=FOUR, source_tempo_bpm=None), stems=FOUR)
    assert lofi.effects.lowpass_hz is not None and lofi.effects.lowpass_hz <= 6000
    assert lofi.tempo_ratio < 1.0 and lofi.effects.reverb is not None

    acoustic = recipe_validate(preset_recipe("acoustic", stems=SIX), stems=SIX)
    assert acoustic.stems["drums"].gain_db < 0 and acoustic.stems["bass"].gain_db < 0
    assert acoustic.effects.reverb is not None


@pytest.mark.parametrize(
    ("bpm", "expected_felt"),
    [(120.0, 128.0), (128.0, 128.0), (135.0, 135.0), (150.0, 140.0), (70.0, 140.0), (90.0, 140.0)],
)
def test_workout_tempo_targets_running_pace(bpm, expected_felt):
    data = preset_recipe("workout", stems=FOUR, source_tempo_bpm=bpm)
    ratio = data["tempo_ratio"]
    felt = [bpm * ratio * m for m in (0.5, 1, 2)]
    assert any(abs(f - expected_felt) < 0.5 for f in felt), (ratio, felt)


def test_tempo_ratio_is_clamped_and_has_fallback():
    assert tempo_ratio_for_target(None, 128, 140, fallback=1.1) == 1.1
    assert tempo_ratio_for_target(20.0, 128, 140, fallback=1.1) == 2.0
    assert tempo_ratio_for_target(1000.0, 128, 140, fallback=1.1) == 0.5


def test_suggest_without_history_is_chill():
    slug, reason = preset_suggest([])
    assert slug == "chill" and "history" in reason


def test_suggest_prefers_repeated_choices_and_explains():
    history = [("workout", ["energetic"]), ("lofi", ["chill"]), ("workout", ["happy"])]
    suggestion = preset_suggest(history)
    assert isinstance(suggestion, Suggestion)
    assert suggestion.slug == "workout"
    assert "Workout" in suggestion.reason and "2x" in suggestion.reason


def test_suggest_uses_moods_and_recipe_dicts():
    hand_made = preset_recipe("instrumental", stems=FOUR)
    assert classify_recipe(hand_made) == "instrumental"
    history = [(hand_made, ["cinematic"]), ({"version": 1}, ["karaoke", "background"])]
    slug, reason = preset_suggest(history)
    assert slug == "instrumental"
    assert "karaoke" in reason or "background" in reason


def test_suggest_is_deterministic_and_respects_stems():
    history = [("a_cappella", ["vocal"]), ("chill", ["calm"]), ("a_cappella", ["soulful"])]
    assert preset_suggest(history) == preset_suggest(list(history))
    assert preset_suggest(history).slug == "a_cappella"
    assert preset_suggest(history, stems=NO_VOCALS).slug != "a_cappella"


@pytest.mark.parametrize("slug", sorted(REQUIRED))
def test_classify_recognises_every_preset(slug):
    assert classify_recipe(preset_recipe(slug, stems=FOUR, source_tempo_bpm=100.0)) == slug
