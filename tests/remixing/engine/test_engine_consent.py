"""Consent terms: which transformations a recipe uses and which are forbidden."""

from __future__ import annotations

import pytest

from remixing.engine.recipe import (
    RECIPE_TERMS,
    recipe_forbidden_transformations,
    recipe_transformations,
    recipe_validate,
)

STEMS = ("drums", "bass", "other", "vocals")
# The engine owns no wording of the terms: callers pass each term's refusal in.
REFUSALS = {term: f"no {term}" for term in RECIPE_TERMS}
ALL_ALLOWED = dict.fromkeys(RECIPE_TERMS, True) | {"publication": False}


def r(**data):
    return recipe_validate({"version": 1, **data}, stems=STEMS, duration_s=60)


def test_term_keys_are_exact():
    assert RECIPE_TERMS == (
        "stem_volume",
        "tempo",
        "key",
        "effects",
        "vocals_removed",
        "vocals_isolated",
        "arrangement",
        "covers",
    )


def test_a_cover_take_uses_the_covers_term_and_is_refused_without_it():
    recipe = r(cover={"version": 1, "take": "ab" * 16, "lead_s": 2, "latency_ms": 30})
    assert recipe_transformations(recipe) == {"covers"}
    allowed = ALL_ALLOWED | {"covers": False}
    assert recipe_forbidden_transformations(recipe, allowed=allowed, refusals=REFUSALS) == [
        ("cover", "no covers")
    ]
    # Fails closed: terms recorded before covers existed do not allow them.
    before = {k: v for k, v in ALL_ALLOWED.items() if k != "covers"}
    assert recipe_forbidden_transformations(recipe, allowed=before, refusals=REFUSALS) == [
        ("cover", "no covers")
    ]
    assert recipe_forbidden_transformations(recipe, allowed=ALL_ALLOWED, refusals=REFUSALS) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, set()),
        ({"fade_in_s": 2, "region": {"start_s": 1, "end_s": 30}}, set()),  # edits, not terms
        ({"stems": {"drums": {"gain_db": 0, "mute": False}}}, set()),  # explicit defaults
        ({"stems": {"drums": {"gain_db": -3}}}, {"stem_volume"}),
        ({"stems": {"drums": {"mute": True}}}, {"stem_volume"}),
        ({"tempo_ratio": 1.1}, {"tempo"}),
        ({"key_shift": -2}, {"key"}),
        ({"effects": {"lowpass_hz": 5000}}, {"effects"}),
        ({"effects": {"delay": {"seconds": 0.2, "feedback": 0.1, "mix": 0.2}}}, {"effects"}),
        ({"stems": {"vocals": {"mute": True}}}, {"stem_volume", "vocals_removed"}),
        ({"stems": {"vocals": {"gain_db": -40}}}, {"stem_volume", "vocals_removed"}),
        ({"stems": {"vocals": {"gain_db": -39}}}, {"stem_volume"}),
        ({"stems": {"drums": {"solo": True}}}, {"stem_volume", "vocals_removed"}),
        ({"stems": {"vocals": {"solo": True}}}, {"stem_volume", "vocals_isolated"}),
        (
            {"stems": {n: {"mute": True} for n in ("drums", "bass", "other")}},
            {"stem_volume", "vocals_isolated"},
        ),
        (
            {"stems": {n: {"gain_db": -50} for n in ("drums", "bass", "other")}},
            {"stem_volume", "vocals_isolated"},
        ),
        # Soloing vocals *and* drums keeps the band: neither removed nor isolated.
        ({"stems": {"vocals": {"solo": True}, "drums": {"solo": True}}}, {"stem_volume"}),
        # Everything muted: nothing audible, so neither vocal term applies.
        ({"stems": {n: {"mute": True} for n in STEMS}}, {"stem_volume"}),
        # A muted soloed vocal: mute wins, the vocal is removed.
        (
            {"stems": {"vocals": {"solo": True, "mute": True}, "drums": {"solo": True}}},
            {"stem_volume", "vocals_removed"},
        ),
    ],
)
def test_recipe_transformations(data, expected):
    assert recipe_transformations(r(**data)) == expected


def test_no_vocal_terms_without_a_vocal_stem():
    recipe = recipe_validate(
        {"version": 1, "stems": {"drums": {"solo": True}}}, stems=("drums", "bass"), duration_s=None
    )
    assert recipe_transformations(recipe) == {"stem_volume"}


def test_everything_allowed_means_nothing_forbidden():
    recipe = r(
        stems={"vocals": {"mute": True}},
        tempo_ratio=1.2,
        key_shift=3,
        effects={"reverb": {"room_size": 0.3, "wet": 0.2}},
    )
    assert recipe_forbidden_transformations(recipe, allowed=ALL_ALLOWED, refusals=REFUSALS) == []


def test_forbidden_terms_name_fields():
    recipe = r(
        stems={"vocals": {"mute": True}, "drums": {"gain_db": 3}},
        tempo_ratio=1.2,
        key_shift=3,
        effects={"lowpass_hz": 4000, "reverb": {"room_size": 0.3, "wet": 0.2}},
    )
    allowed = dict.fromkeys(RECIPE_TERMS, False)
    problems = recipe_forbidden_transformations(recipe, allowed=allowed, refusals=REFUSALS)
    paths = [p for p, _ in problems]
    assert set(paths) == {
        "stems.vocals",
        "stems.drums",
        "tempo_ratio",
        "key_shift",
        "effects.lowpass_hz",
        "effects.reverb",
    }
    assert ("tempo_ratio", "no tempo") in problems
    assert any("no vocals_removed" == msg for _, msg in problems)


def test_instrumental_needs_vocals_removed_term():
    instrumental = r(stems={"vocals": {"mute": True}})
    allowed = dict(ALL_ALLOWED, vocals_removed=False)
    assert recipe_forbidden_transformations(instrumental, allowed=allowed, refusals=REFUSALS) == [
        ("stems.vocals", "no vocals_removed")
    ]


def test_a_cappella_needs_vocals_isolated_term():
    a_cappella = r(stems={"vocals": {"solo": True}})
    allowed = dict(ALL_ALLOWED, vocals_isolated=False)
    problems = recipe_forbidden_transformations(a_cappella, allowed=allowed, refusals=REFUSALS)
    assert problems == [("stems.vocals", "no vocals_isolated")]


def test_missing_terms_fail_closed_and_publication_is_ignored():
    recipe = r(tempo_ratio=0.9)
    assert recipe_forbidden_transformations(recipe, allowed={}, refusals=REFUSALS) == [
        ("tempo_ratio", "no tempo")
    ]
    assert (
        recipe_forbidden_transformations(r(), allowed={"publication": False}, refusals=REFUSALS)
        == []
    )
