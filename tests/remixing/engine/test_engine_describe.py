"""Describe your remix: a corpus of phrasings and what each must become (pure, no DB)."""

from __future__ import annotations

import pytest

from remixing.engine.describe import describe
from remixing.engine.describe_changes import (
    FORBIDDEN,
    REFUSED,
    UNAVAILABLE,
    UNKNOWN,
    Track,
)
from remixing.engine.presets import preset_recipe
from remixing.engine.recipe import RECIPE_TERMS, recipe_validate

FOUR = ("drums", "bass", "other", "vocals")
TRACK = Track(stems=FOUR, tempo_bpm=120.0, duration_s=30.0)
ALL_ALLOWED = dict.fromkeys(RECIPE_TERMS, True)

# (sentence, {path: value} of every change, [(words, reason)] of every phrase not honoured)
CORPUS: list[tuple[str, dict, list[tuple[str, str]]]] = [
    # tempo: words, numbers, factors
    ("10% faster", {"tempo_ratio": 1.1}, []),
    ("10 percent slower", {"tempo_ratio": 0.9}, []),
    ("speed it up by 15 percent", {"tempo_ratio": 1.15}, []),
    ("slow it down by 20%", {"tempo_ratio": 0.8}, []),
    ("a bit slower", {"tempo_ratio": 0.95}, []),
    ("slightly faster", {"tempo_ratio": 1.05}, []),
    ("a lot faster", {"tempo_ratio": 1.2}, []),
    ("much slower please", {"tempo_ratio": 0.8}, []),
    ("half speed", {"tempo_ratio": 0.5}, []),
    ("double time", {"tempo_ratio": 2.0}, []),
    ("1.5x speed", {"tempo_ratio": 1.5}, []),
    ("at 100 bpm", {"tempo_ratio": 0.833}, []),
    ("at 300 bpm", {"tempo_ratio": 2.0}, [("at 300 bpm", UNAVAILABLE)]),
    (
        "slowed + reverb",
        {"tempo_ratio": 0.85, "effects.reverb": {"room_size": 0.7, "wet": 0.3}},
        [],
    ),
    ("nightcore version", {"tempo_ratio": 1.25, "key_shift": 3}, []),
    # key: numbers in digits and words, units, directions
    ("down two semitones", {"key_shift": -2}, []),
    ("up 3 semitones", {"key_shift": 3}, []),
    ("+3 semitones", {"key_shift": 3}, []),
    ("-1 st", {"key_shift": -1}, []),
    ("two semitones lower", {"key_shift": -2}, []),
    ("raise it by a half step", {"key_shift": 1}, []),
    ("up a whole step", {"key_shift": 2}, []),
    ("an octave lower", {"key_shift": -12}, []),
    ("in a higher key", {"key_shift": 2}, []),
    ("a little higher key", {"key_shift": 1}, []),
    ("lower the key a bit", {"key_shift": -1}, []),
    ("pitch it down", {"key_shift": -2}, []),
    ("up 20 semitones", {"key_shift": 12}, [("up 20 semitones", UNAVAILABLE)]),
    ("transpose 3 semitones", {}, [("transpose 3 semitones", UNKNOWN)]),
    # stems: mute, solo, gain, lists
    ("no vocals", {"stems.vocals.mute": True}, []),
    ("without the drums", {"stems.drums.mute": True}, []),
    ("drums off", {"stems.drums.mute": True}, []),
    ("kill the bass", {"stems.bass.mute": True}, []),
    (
        "no drums, bass & keys",
        {"stems.drums.mute": True, "stems.bass.mute": True, "stems.other.mute": True},
        [],
    ),
    ("just the drums and bass", {"stems.drums.solo": True, "stems.bass.solo": True}, []),
    ("vocals only", {"stems.vocals.solo": True}, []),
    ("more bass", {"stems.bass.gain_db": 4.0}, []),
    ("way more drums", {"stems.drums.gain_db": 8.0}, []),
    ("bring the vocals up a bit", {"stems.vocals.gain_db": 2.0}, []),
    ("turn the drums up by 3 dB", {"stems.drums.gain_db": 3.0}, []),
    ("the vocals a bit quieter", {"stems.vocals.gain_db": -3.0}, []),
    ("vocals at -6 dB", {"stems.vocals.gain_db": -6.0}, []),
    ("more drums and less bass", {"stems.drums.gain_db": 4.0, "stems.bass.gain_db": -6.0}, []),
    ("no guitar", {"stems.other.mute": True}, []),
    # effects
    ("with an echo", {"effects.delay": {"seconds": 0.3, "feedback": 0.35, "mix": 0.25}}, []),
    ("300 ms delay", {"effects.delay": {"seconds": 0.3, "feedback": 0.35, "mix": 0.25}}, []),
    ("lots of reverb", {"effects.reverb": {"room_size": 0.85, "wet": 0.4}}, []),
    ("muffled", {"effects.lowpass_hz": 5000.0}, []),
    ("like an old radio", {"effects.highpass_hz": 400.0, "effects.lowpass_hz": 3400.0}, []),
    ("low-pass at 3 kHz", {"effects.lowpass_hz": 3000.0}, []),
    ("high-pass filter at 200 hz", {"effects.highpass_hz": 200.0}, []),
    ("compressed", {"effects.compressor": {"threshold_db": -18.0, "ratio": 3.0}}, []),
    # fades and the export region
    ("fade in and out", {"fade_in_s": 2.0, "fade_out_s": 3.0}, []),
    ("a 5 second fade in and a fade out", {"fade_in_s": 5.0, "fade_out_s": 3.0}, []),
    ("fade out over 4 seconds", {"fade_out_s": 4.0}, []),
    ("a 20 second fade out", {"fade_out_s": 10.0}, [("a 20 second fade out", UNAVAILABLE)]),
    ("the first 10 seconds", {"region": {"start_s": 0.0, "end_s": 10.0}}, []),
    ("the last 10 seconds", {"region": {"start_s": 20.0, "end_s": 30.0}}, []),
    ("from 0:05 to 0:20", {"region": {"start_s": 5.0, "end_s": 20.0}}, []),
    ("from 5 to 15 seconds", {"region": {"start_s": 5.0, "end_s": 15.0}}, []),
    # negations that mean nothing on a fresh recipe stay silent (no change, nothing unknown)
    ("no effects", {}, []),
    ("no fades", {}, []),
    ("keep the original tempo", {}, []),
    # refused, unavailable and unknown words
    ("remove the credits", {}, [("remove the credits", REFUSED)]),
    ("make it sound like drake", {}, [("sound like drake", REFUSED)]),
    ("sing like beyoncé", {}, [("sing like beyoncé", REFUSED)]),
    ("clone the voice", {}, [("clone the voice", REFUSED)]),
    ("add a rap verse", {}, [("add a rap verse", REFUSED)]),
    ("change the lyrics", {}, [("change the lyrics", REFUSED)]),
    ("mash it up with another song", {}, [("mash it up with another song", REFUSED)]),
    ("for free without credits", {}, [("for free", REFUSED), ("without credits", REFUSED)]),
    ("with autotune", {}, [("autotune", UNAVAILABLE)]),
    ("reverse it", {}, [("reverse", UNAVAILABLE)]),
    ("the chorus twice", {}, [("chorus twice", UNAVAILABLE)]),
    ("louder", {}, [("louder", UNAVAILABLE)]),
    ("blorp the zibble", {}, [("blorp the zibble", UNKNOWN)]),
    ("10% faster and extra sparkly", {"tempo_ratio": 1.1}, [("extra sparkly", UNKNOWN)]),
]


def _changes(description) -> dict:
    return {change.path: change.value for change in description.changes}


def _unhonoured(description) -> list[tuple[str, str]]:
    return [(u.words, u.reason) for u in description.unhonoured]


@pytest.mark.parametrize(("text", "changes", "unhonoured"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus(text, changes, unhonoured):
    result = describe(text, track=TRACK, allowed=ALL_ALLOWED)
    assert _changes(result) == changes
    assert _unhonoured(result) == unhonoured
    # The recipe it returns is always valid for the track.
    recipe_validate(result.recipe, stems=FOUR, duration_s=30.0)


def test_corpus_is_large_enough():
    assert len(CORPUS) + len(PRESET_CASES) + 8 >= 60  # + the scenario tests below


# (sentence, presets applied in layering order, the changes that must be in the result)
PRESET_CASES = [
    (
        "a chill lo-fi version for studying, no vocals, a bit slower",
        ("focus", "chill", "lofi"),
        {
            # lo-fi (genre) wins over chill (mood) over focus (activity) where they overlap
            "effects.lowpass_hz": 4500.0,
            "effects.highpass_hz": 60.0,
            "stems.drums.gain_db": -2.0,
            # explicit words apply on top of the presets
            "stems.vocals.mute": True,
            "tempo_ratio": 0.712,  # lo-fi's 0.75 at 120 BPM, then "a bit slower" (x0.95)
            "effects.compressor": {"threshold_db": -20.0, "ratio": 2.0},  # only focus has one
        },
    ),
    (
        "make it a workout mix in a higher key",
        ("workout",),
        {"stems.drums.gain_db": 3.0, "tempo_ratio": 1.067, "key_shift": 2},
    ),
    ("something for the gym", ("workout",), {"tempo_ratio": 1.067}),
    ("relaxing sleep music", ("chill",), {"tempo_ratio": 0.85, "fade_out_s": 3.0}),
    ("karaoke version", ("instrumental",), {"stems.vocals.mute": True}),
    ("a cappella", ("a_cappella",), {"stems.vocals.solo": True}),
    ("a sad version", ("chill",), {"effects.lowpass_hz": 9000.0}),
    ("club mix with more bass", ("club",), {"stems.bass.gain_db": 8.0}),
]


@pytest.mark.parametrize(("text", "presets", "expected"), PRESET_CASES)
def test_presets_from_words(text, presets, expected):
    result = describe(text, track=TRACK, allowed=ALL_ALLOWED)
    assert result.presets == presets
    assert _unhonoured(result) == []
    changes = _changes(result)
    assert {path: changes.get(path) for path in expected} == expected


def test_preset_words_give_the_preset_recipe():
    result = describe("lo-fi", track=TRACK, allowed=ALL_ALLOWED)
    preset = recipe_validate(preset_recipe("lofi", stems=FOUR, source_tempo_bpm=120.0), stems=FOUR)
    assert recipe_validate(result.recipe, stems=FOUR) == preset


# --- negations and locks ---------------------------------------------------------------


def test_keep_the_tempo_overrides_the_preset():
    result = describe("workout mix but keep the tempo", track=TRACK, allowed=ALL_ALLOWED)
    assert "tempo_ratio" not in _changes(result)
    assert _changes(result)["stems.drums.gain_db"] == 3.0


def test_keep_the_vocals_overrides_instrumental():
    result = describe("instrumental but keep the vocals", track=TRACK, allowed=ALL_ALLOWED)
    assert _changes(result) == {}


def test_not_a_preset_excludes_it():
    result = describe("not lo-fi, chill", track=TRACK, allowed=ALL_ALLOWED)
    assert result.presets == ("chill",)


def test_not_too_slow_limits_the_slowdown():
    result = describe("chill but not too slow", track=TRACK, allowed=ALL_ALLOWED)
    assert _changes(result)["tempo_ratio"] == 0.94


def test_negations_undo_what_the_recipe_has():
    current = {
        "version": 1,
        "stems": {"vocals": {"mute": True}},
        "tempo_ratio": 1.2,
        "effects": {"reverb": {"room_size": 0.5, "wet": 0.2}, "lowpass_hz": 5000},
        "fade_in_s": 2.0,
        "region": {"start_s": 1.0, "end_s": 9.0},
    }
    result = describe(
        "no reverb, no fades, back to the original tempo, keep the vocals, the whole track",
        track=TRACK,
        allowed=ALL_ALLOWED,
        recipe=current,
    )
    assert _changes(result) == {
        "effects.reverb": None,
        "fade_in_s": 0.0,
        "tempo_ratio": 1.0,
        "stems.vocals.mute": False,
        "region": None,
    }
    assert result.recipe["effects"]["lowpass_hz"] == 5000.0  # untouched


def test_relative_words_build_on_the_current_recipe():
    current = {"version": 1, "tempo_ratio": 1.2, "key_shift": 3, "stems": {"bass": {"gain_db": 2}}}
    result = describe(
        "10% slower, down two semitones, more bass",
        track=TRACK,
        allowed=ALL_ALLOWED,
        recipe=current,
    )
    assert _changes(result) == {"tempo_ratio": 1.08, "key_shift": 1, "stems.bass.gain_db": 6.0}


def test_start_over_resets_everything():
    current = {"version": 1, "tempo_ratio": 0.8, "key_shift": -2, "effects": {"highpass_hz": 90}}
    result = describe("start over", track=TRACK, allowed=ALL_ALLOWED, recipe=current)
    assert _changes(result) == {"tempo_ratio": 1.0, "key_shift": 0, "effects.highpass_hz": None}


# --- consent terms ------------------------------------------------------------------------


def test_terms_forbid_words_and_say_why():
    allowed = ALL_ALLOWED | {"key": False, "vocals_removed": False}
    result = describe("no vocals, up two semitones, 10% faster", track=TRACK, allowed=allowed)
    assert _changes(result) == {"tempo_ratio": 1.1}
    assert [(u.words, u.reason, u.message) for u in result.unhonoured] == [
        ("no vocals", FORBIDDEN, "The artist's terms do not allow removing the vocals."),
        ("up two semitones", FORBIDDEN, "The artist's terms do not allow key changes."),
    ]


def test_missing_term_counts_as_forbidden():
    result = describe("with an echo", track=TRACK, allowed={})
    assert _changes(result) == {}
    assert _unhonoured(result) == [("with an echo", FORBIDDEN)]


def test_forbidden_isolation_drops_the_solo():
    allowed = ALL_ALLOWED | {"vocals_isolated": False}
    result = describe("a cappella", track=TRACK, allowed=allowed)
    assert "stems.vocals.solo" not in _changes(result)
    assert ("a cappella", FORBIDDEN) in _unhonoured(result)
    assert _changes(result)["effects.reverb"] == {"room_size": 0.5, "wet": 0.2}


def test_missing_stem_and_unknown_tempo_are_unavailable():
    track = Track(stems=("drums", "bass", "other"), tempo_bpm=None, duration_s=None)
    result = describe("no vocals at 128 bpm, a cappella", track=track, allowed=ALL_ALLOWED)
    assert _changes(result) == {}
    assert [u.reason for u in result.unhonoured] == [UNAVAILABLE, UNAVAILABLE, UNAVAILABLE]
    assert "no separate vocals" in result.unhonoured[0].message


def test_same_sentence_same_answer_and_text_is_bounded():
    first = describe("chill, 10% faster, no drums", track=TRACK, allowed=ALL_ALLOWED)
    again = describe("Chill,  10% FASTER, no drums", track=TRACK, allowed=ALL_ALLOWED)
    assert first == again
    describe("slower " * 1000, track=TRACK, allowed=ALL_ALLOWED)  # long input: no error


def test_as_dict_carries_labels_and_editing_bounds():
    body = describe("10% faster", track=TRACK, allowed=ALL_ALLOWED).as_dict()
    assert body["changes"] == [
        {
            "path": "tempo_ratio",
            "value": 1.1,
            "words": "10% faster",
            "label": "Tempo 110% of the original (132 BPM)",
            "term": "tempo",
            "min": 0.5,
            "max": 2.0,
            "step": 0.01,
            "unit": "x",
        }
    ]
    assert body["not_honoured"] == [] and body["recipe"]["tempo_ratio"] == 1.1
