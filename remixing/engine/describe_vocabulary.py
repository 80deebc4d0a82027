"""Describe your remix, the vocabulary: number, degree, stem and preset words and the
regular expressions built from them (see :mod:`remixing.engine.describe`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .presets import PRESET_ORDER, PRESETS
from .recipe import (
    VOCALS,
)

# ---------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------

NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "a couple of": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
}
NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
SMALL = (
    r"(?:just\s+)?(?:a\s+(?:little\s+|tiny\s+)?bit|slightly|a\s+little|a\s+touch|a\s+tad|"
    r"somewhat|a\s+hair)"
)
BIG = r"(?:much|a\s+lot|way|lots|far|really|very|super|heavily|a\s+lot\s+of)"
DEGREE = rf"(?:(?P<small>{SMALL})|(?P<big>{BIG}))"

# Stem words -> canonical stem. "guitar"/"piano" are their own stems on 6-stem sets and
# part of "other" on 4-stem sets (resolved against the track's stems).
_STEM_SYNONYMS = {
    "vocals": VOCALS,
    "vocal": VOCALS,
    "voice": VOCALS,
    "voices": VOCALS,
    "vox": VOCALS,
    "singing": VOCALS,
    "singer": VOCALS,
    "lyrics": VOCALS,
    "drums": "drums",
    "drum": "drums",
    "percussion": "drums",
    "beat": "drums",
    "beats": "drums",
    "kick": "drums",
    "hats": "drums",
    "bass": "bass",
    "bassline": "bass",
    "bass line": "bass",
    "sub bass": "bass",
    "other": "other",
    "chords": "other",
    "keys": "other",
    "synth": "other",
    "synths": "other",
    "melody": "other",
    "instruments": "other",
    "backing": "other",
    "guitar": "guitar",
    "guitars": "guitar",
    "piano": "piano",
}
STEM_WORDS = (
    "(?:"
    + "|".join(w.replace(" ", r"\s+") for w in sorted(_STEM_SYNONYMS, key=len, reverse=True))
    + ")"
)
# One stem or a list of them ("the drums and bass", "drums, bass & keys").
STEM = (
    r"(?P<stem>"
    + STEM_WORDS
    + r"(?:\s*(?:,|\band\b|&|\+)\s*(?:the\s+)?"
    + STEM_WORDS
    + r"(?![a-z]))*)"
)


def stem_for(word: str, stems: Sequence[str]) -> str | None:
    canonical = _STEM_SYNONYMS[re.sub(r"\s+", " ", word)]
    if canonical in stems:
        return canonical
    if canonical in ("guitar", "piano") and "other" in stems:
        return "other"
    return None


# Preset trigger words, by kind. Layering order: activity < mood < genre (genre wins).
_ACTIVITY, _MOOD, _GENRE = 0, 1, 2
PRESET_WORDS: dict[str, tuple[str, int]] = {
    # activities
    "studying": ("focus", _ACTIVITY),
    "study": ("focus", _ACTIVITY),
    "focus": ("focus", _ACTIVITY),
    "focusing": ("focus", _ACTIVITY),
    "working": ("focus", _ACTIVITY),
    "work": ("focus", _ACTIVITY),
    "reading": ("focus", _ACTIVITY),
    "homework": ("focus", _ACTIVITY),
    "coding": ("focus", _ACTIVITY),
    "background": ("focus", _ACTIVITY),
    "workout": ("workout", _ACTIVITY),
    "work out": ("workout", _ACTIVITY),
    "working out": ("workout", _ACTIVITY),
    "gym": ("workout", _ACTIVITY),
    "running": ("workout", _ACTIVITY),
    "run": ("workout", _ACTIVITY),
    "jogging": ("workout", _ACTIVITY),
    "cardio": ("workout", _ACTIVITY),
    "training": ("workout", _ACTIVITY),
    "sleep": ("chill", _ACTIVITY),
    "sleeping": ("chill", _ACTIVITY),
    "relaxing": ("chill", _ACTIVITY),
    "meditation": ("chill", _ACTIVITY),
    "yoga": ("chill", _ACTIVITY),
    "party": ("club", _ACTIVITY),
    "dancing": ("club", _ACTIVITY),
    "dance floor": ("club", _ACTIVITY),
    "clubbing": ("club", _ACTIVITY),
    "campfire": ("acoustic", _ACTIVITY),
    "dinner": ("acoustic", _ACTIVITY),
    "karaoke": ("instrumental", _ACTIVITY),
    "sing along": ("instrumental", _ACTIVITY),
    "singalong": ("instrumental", _ACTIVITY),
    # genres and styles
    "lo-fi": ("lofi", _GENRE),
    "lofi": ("lofi", _GENRE),
    "lo fi": ("lofi", _GENRE),
    "club": ("club", _GENRE),
    "edm": ("club", _GENRE),
    "house": ("club", _GENRE),
    "techno": ("club", _GENRE),
    "disco": ("club", _GENRE),
    "dance": ("club", _GENRE),
    "acoustic": ("acoustic", _GENRE),
    "unplugged": ("acoustic", _GENRE),
    "stripped back": ("acoustic", _GENRE),
    "stripped down": ("acoustic", _GENRE),
    "folk": ("acoustic", _GENRE),
    "a cappella": ("a_cappella", _GENRE),
    "a capella": ("a_cappella", _GENRE),
    "acapella": ("a_cappella", _GENRE),
    "acappella": ("a_cappella", _GENRE),
    "instrumental": ("instrumental", _GENRE),
    "chillout": ("chill", _GENRE),
    "chill out": ("chill", _GENRE),
    "chill-out": ("chill", _GENRE),
    "chilled": ("chill", _MOOD),
    "chill": ("chill", _MOOD),
    "relaxed": ("chill", _MOOD),
    "mellow": ("chill", _MOOD),
    "calm": ("chill", _MOOD),
    "energetic": ("workout", _MOOD),
    "upbeat": ("workout", _MOOD),
    "pumped": ("workout", _MOOD),
    "hype": ("workout", _MOOD),
}
# Every mood word a preset lists (presets.py) is vocabulary too, except stem words ("vocal")
# and the moods of the two presets that remove whole parts: "an emotional version" must not
# silently become an a cappella.
for _slug in PRESET_ORDER:
    if _slug in ("a_cappella", "instrumental"):
        continue
    for _word in PRESETS[_slug].moods:
        if _word not in _STEM_SYNONYMS:
            PRESET_WORDS.setdefault(_word, (_slug, _MOOD))
PRESET_WORD = (
    r"(?P<preset>"
    + "|".join(
        re.escape(w).replace(r"\ ", r"\s+") for w in sorted(PRESET_WORDS, key=len, reverse=True)
    )
    + r")"
)
