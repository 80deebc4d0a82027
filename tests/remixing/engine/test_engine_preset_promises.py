"""Every preset's description holds on every tempo from 60 to 180 BPM and on
every demo track (issue 18): "slower" means a lower rate, a running or dance
tempo lands the felt beat in its band, and presets that promise no tempo
change make none. Pure: no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.demo.catalog_data import TRACKS
from remixing.engine.presets import PRESETS, preset_recipe

FOUR = ("drums", "bass", "other", "vocals")
BPMS = st.floats(min_value=60.0, max_value=180.0, allow_nan=False)


def ratio(slug: str, bpm: float) -> float:
    return preset_recipe(slug, stems=FOUR, source_tempo_bpm=bpm).get("tempo_ratio", 1.0)


def felt_in_band(bpm: float, r: float, lo: float, hi: float) -> bool:
    new = bpm * r
    return any(lo - 0.5 <= felt <= hi + 0.5 for felt in (new, new * 2, new / 2))


@given(BPMS)
def test_chill_is_a_touch_slower(bpm):
    assert "slower" in PRESETS["chill"].description
    assert 0.85 <= ratio("chill", bpm) < 1.0


@given(BPMS)
def test_lofi_is_slowed_down(bpm):
    assert "Slowed down" in PRESETS["lofi"].description
    assert 0.75 <= ratio("lofi", bpm) < 1.0


@given(BPMS)
def test_workout_lands_on_a_running_tempo(bpm):
    assert "128-140 BPM" in PRESETS["workout"].description
    assert felt_in_band(bpm, ratio("workout", bpm), 128, 140)


@given(BPMS)
def test_club_lands_on_a_dance_floor_tempo(bpm):
    assert felt_in_band(bpm, ratio("club", bpm), 122, 128)


@pytest.mark.parametrize("slug", ["focus", "acoustic", "a_cappella", "instrumental"])
@given(bpm=BPMS)
def test_presets_that_promise_no_tempo_change_make_none(slug, bpm):
    assert ratio(slug, bpm) == 1.0


@pytest.mark.parametrize("track", TRACKS, ids=lambda t: t.title)
def test_slower_presets_slow_every_demo_track_down(track):
    # Found: on Neon Tide (122 BPM) "Chill" and "Lo-fi" both played 15% faster.
    for slug in ("chill", "lofi"):
        assert ratio(slug, float(track.bpm)) < 1.0, (slug, track.title)
