"""What a cover vocal can be combined with, in the engine alone (no Django).

The studio previews a key shift by changing playback speed (the export keeps the tempo),
and the take is placed from output time 0 (a region starts the export later in the song):
either would put the take somewhere other than where it was sung, so the recipe refuses
both, in words the studio shows. A preset changes the sound and keeps the take.
"""

from __future__ import annotations

import pytest

from remixing.engine.cover import COVER_KEY_SHIFT, COVER_REGION
from remixing.engine.presets import PRESETS, preset_keep_cover, preset_recipe
from remixing.engine.recipe import RecipeError, recipe_to_dict, recipe_validate
from remixing.engine.render import render_mix

STEMS = ["drums", "bass", "other", "vocals"]
COVER = {"version": 1, "take": "c0" * 16, "lead_s": 2.0, "latency_ms": 35.0, "gain_db": -3.0}
# The same cover as validation keeps it: the current version, sung at the recipe's tempo.
SAVED = COVER | {"version": 2, "mute": False, "sung_tempo_ratio": 1.0}


def refusal(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(RecipeError) as refused:
        recipe_validate(data, stems=STEMS, duration_s=180.0)
    return refused.value.errors


def test_a_cover_with_a_key_shift_is_refused_naming_the_key_shift():
    assert refusal({"version": 1, "key_shift": -2, "cover": COVER}) == [
        ("key_shift", COVER_KEY_SHIFT)
    ]
    assert "reset the key shift" in COVER_KEY_SHIFT


def test_a_cover_with_an_export_region_is_refused_naming_the_region():
    region = {"start_s": 30.0, "end_s": 90.0}
    assert refusal({"version": 1, "region": region, "cover": COVER}) == [("region", COVER_REGION)]
    assert "export region" in COVER_REGION


def test_a_key_shift_or_region_without_a_cover_and_a_cover_alone_are_fine():
    region = {"start_s": 30.0, "end_s": 90.0}
    assert recipe_validate({"version": 1, "key_shift": -2, "region": region}, stems=STEMS)
    recipe = recipe_validate({"version": 1, "tempo_ratio": 1.0, "cover": COVER}, stems=STEMS)
    assert recipe_to_dict(recipe)["cover"] == SAVED


def test_the_renderer_refuses_a_raw_recipe_with_a_cover_and_a_key_shift():
    import numpy as np

    stems = {name: np.zeros((1, 4410), dtype=np.float32) for name in STEMS}
    with pytest.raises(RecipeError):
        render_mix(stems, {"version": 1, "key_shift": 3, "cover": COVER}, samplerate=44100)


@pytest.mark.parametrize("slug", list(PRESETS))
def test_applying_a_preset_keeps_the_cover_and_the_result_is_a_valid_recipe(slug):
    current = {"version": 1, "stems": {"drums": {"mute": True}}, "cover": COVER}
    applied = preset_keep_cover(preset_recipe(slug, stems=STEMS), current=current)
    recipe = recipe_validate(applied, stems=STEMS, duration_s=180.0)
    # Kept as sung: at the tempo of the recipe it was chosen in, whatever the preset's.
    assert recipe_to_dict(recipe)["cover"] == SAVED


def test_a_preset_over_a_recipe_without_a_cover_adds_none():
    applied = preset_keep_cover(preset_recipe("chill", stems=STEMS), current={"version": 1})
    assert "cover" not in applied
