"""One-click presets: a mood, activity or genre turned into a recipe.

Presets only ever emit recipe *dicts* (the same JSON the editor sends), built for the stems
the track actually has, so they go through exactly the same validation and consent checks as
a hand-made recipe. ``preset_suggest`` powers "Remix for me" with a transparent scoring rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .cover import COVER_VERSION
from .recipe import RECIPE_VERSION, TEMPO_MAX, TEMPO_MIN, VOCALS


class PresetError(ValueError):
    """Unknown preset, or a preset that cannot apply to this track's stems."""


@dataclass(frozen=True)
class Preset:
    slug: str
    name: str
    description: str
    # Mood/genre words that make this preset a good guess for a track (see preset_suggest).
    moods: frozenset[str]
    # Stems without which the preset is meaningless (a cappella needs vocals).
    requires: frozenset[str] = frozenset()


PRESETS: dict[str, Preset] = {
    p.slug: p
    for p in (
        Preset(
            "chill",
            "Chill",
            "A touch slower and softer, drums tucked back, a little space.",
            frozenset({"calm", "chill", "relaxed", "mellow", "dreamy", "ambient", "sad"}),
        ),
        Preset(
            "focus",
            "Focus",
            "Vocals pulled back and highs smoothed so it sits behind your work.",
            frozenset({"focus", "study", "calm", "instrumental", "ambient", "minimal"}),
        ),
        Preset(
            "workout",
            "Workout",
            "Brought to a running tempo (128-140 BPM) with punchy drums and bass.",
            frozenset({"energetic", "upbeat", "workout", "hype", "aggressive", "happy"}),
        ),
        Preset(
            "club",
            "Club",
            "Dance-floor tempo, heavier kick and bass, glued with a compressor.",
            frozenset({"dance", "club", "party", "electronic", "house", "edm", "groovy"}),
        ),
        Preset(
            "lofi",
            "Lo-fi",
            "Slowed down, muffled top end, a little room: late-night lo-fi.",
            frozenset({"lofi", "lo-fi", "nostalgic", "chill", "hip-hop", "jazzy", "rainy"}),
        ),
        Preset(
            "acoustic",
            "Acoustic",
            "Drums and bass way down, warm room reverb: an unplugged feel.",
            frozenset({"acoustic", "folk", "intimate", "romantic", "singer-songwriter"}),
        ),
        Preset(
            "a_cappella",
            "A cappella",
            "Just the voice, with a little room around it.",
            frozenset({"vocal", "soulful", "choir", "a cappella", "emotional"}),
            requires=frozenset({VOCALS}),
        ),
        Preset(
            "instrumental",
            "Instrumental",
            "Vocals removed: the backing track on its own.",
            frozenset({"instrumental", "karaoke", "background", "cinematic"}),
            requires=frozenset({VOCALS}),
        ),
    )
}
# Tie-break and default order for suggestions: gentlest first.
PRESET_ORDER = tuple(PRESETS)
DEFAULT_PRESET = "chill"


def presets_for(stems: Sequence[str]) -> list[Preset]:
    """Presets that make sense for a track with these stems."""
    have = set(stems)
    return [p for p in PRESETS.values() if p.requires <= have]


# ---------------------------------------------------------------------------------------
# Building recipes
# ---------------------------------------------------------------------------------------


# How far the "slower" presets may slow a track: (strongest, gentlest) ratios.
CHILL_SLOWDOWN = (0.85, 0.96)  # "a touch slower"
LOFI_SLOWDOWN = (0.75, 0.92)  # "slowed down"


def _clamp_ratio(ratio: float) -> float:
    return round(min(TEMPO_MAX, max(TEMPO_MIN, ratio)), 3)


def tempo_ratio_for_target(
    source_bpm: float | None,
    lo_bpm: float,
    hi_bpm: float,
    *,
    fallback: float,
    slower: tuple[float, float] | None = None,
) -> float:
    """Smallest tempo change that lands the *felt* beat inside ``[lo_bpm, hi_bpm]``.

    A 70 BPM song already feels like 140 in double time, so half/double-time readings of
    the source tempo are considered and the ratio closest to 1 wins. Unknown tempo gives
    ``fallback``. The result is clamped to the recipe's 0.5-2.0 range.

    ``slower=(strongest, gentlest)`` is for presets whose name promises a slowdown: only
    readings that slow the track down are considered, and the ratio is kept inside that
    range, so "a touch slower" never speeds a song up (a 122 BPM song read at half time
    would otherwise be "slowed" to 70 felt BPM by playing it 15% faster).
    """
    if source_bpm is None or not math.isfinite(source_bpm) or source_bpm <= 0:
        return _clamp_ratio(fallback)
    best: float | None = None
    for felt in (source_bpm, source_bpm * 2.0, source_bpm / 2.0):
        target = min(hi_bpm, max(lo_bpm, felt))
        ratio = target / felt
        if slower is not None and ratio > 1.0:
            continue
        if best is None or abs(math.log(ratio)) < abs(math.log(best)):
            best = ratio
    if slower is not None:
        strongest, gentlest = slower
        best = min(gentlest, max(strongest, best if best is not None else gentlest))
    assert best is not None
    return _clamp_ratio(best)


def _stems_dict(stems: Sequence[str], **settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    # Only stems the track has; presets describe intent for the stems that exist.
    return {name: dict(value) for name, value in settings.items() if name in stems}


def _chill(stems: Sequence[str], bpm: float | None) -> dict[str, Any]:
    return {
        "stems": _stems_dict(stems, drums={"gain_db": -4.0}, bass={"gain_db": -1.0}),
        "tempo_ratio": tempo_ratio_for_target(
            bpm, 70.0, 100.0, fallback=0.94, slower=CHILL_SLOWDOWN
        ),
        "effects": {"lowpass_hz": 9000.0, "reverb": {"room_size": 0.45, "wet": 0.18}},
        "fade_in_s": 1.0,
        "fade_out_s": 3.0,
    }


def _focus(stems: Sequence[str], bpm: float | None) -> dict[str, Any]:
    return {
        "stems": _stems_dict(stems, vocals={"gain_db": -12.0}, drums={"gain_db": -3.0}),
        "effects": {"lowpass_hz": 11000.0, "compressor": {"threshold_db": -20.0, "ratio": 2.0}},
        "fade_in_s": 1.0,
        "fade_out_s": 3.0,
    }


def _workout(stems: Sequence[str], bpm: float | None) -> dict[str, Any]:
    return {
        "stems": _stems_dict(stems, drums={"gain_db": 3.0}, bass={"gain_db": 2.0}),
        "tempo_ratio": tempo_ratio_for_target(bpm, 128.0, 140.0, fallback=1.1),
        "effects": {"highpass_hz": 30.0, "compressor": {"threshold_db": -16.0, "ratio": 4.0}},
    }


def _club(stems: Sequence[str], bpm: float | None) -> dict[str, Any]:
    return {
        "stems": _stems_dict(stems, drums={"gain_db": 4.0}, bass={"gain_db": 4.0}),
        "tempo_ratio": tempo_ratio_for_target(bpm, 122.0, 128.0, fallback=1.05),
        "effects": {
            "highpass_hz": 25.0,
            "compressor": {"threshold_db": -14.0, "ratio": 3.0},
            "reverb": {"room_size": 0.3, "wet": 0.08},
        },
    }


def _lofi(stems: Sequence[str], bpm: float | None) -> dict[str, Any]:
    return {
        "stems": _stems_dict(stems, drums={"gain_db": -2.0}, vocals={"gain_db": -2.0}),
        "tempo_ratio": tempo_ratio_for_target(bpm, 70.0, 90.0, fallback=0.85, slower=LOFI_SLOWDOWN),
        "effects": {
            "highpass_hz": 60.0,
            "lowpass_hz": 4500.0,
            "reverb": {"room_size": 0.4, "wet": 0.15},
        },
        "fade_in_s": 1.5,
        "fade_out_s": 3.0,
    }


def _acoustic(stems: Sequence[str], bpm: float | None) -> dict[str, Any]:
    return {
        "stems": _stems_dict(
            stems,
            drums={"gain_db": -18.0},
            bass={"gain_db": -8.0},
            guitar={"gain_db": 2.0},
            piano={"gain_db": 2.0},
        ),
        "effects": {"reverb": {"room_size": 0.55, "wet": 0.22}},
        "fade_in_s": 0.5,
        "fade_out_s": 2.0,
    }


def _a_cappella(stems: Sequence[str], bpm: float | None) -> dict[str, Any]:
    return {
        "stems": _stems_dict(stems, vocals={"solo": True}),
        "effects": {"highpass_hz": 80.0, "reverb": {"room_size": 0.5, "wet": 0.2}},
        "fade_in_s": 0.2,
        "fade_out_s": 1.0,
    }


def _instrumental(stems: Sequence[str], bpm: float | None) -> dict[str, Any]:
    return {"stems": _stems_dict(stems, vocals={"mute": True})}


_BUILDERS: dict[str, Callable[[Sequence[str], float | None], dict[str, Any]]] = {
    "chill": _chill,
    "focus": _focus,
    "workout": _workout,
    "club": _club,
    "lofi": _lofi,
    "acoustic": _acoustic,
    "a_cappella": _a_cappella,
    "instrumental": _instrumental,
}


def preset_recipe(
    slug: str, *, stems: Sequence[str], source_tempo_bpm: float | None = None
) -> dict[str, Any]:
    """Recipe dict for ``slug`` tailored to the track's stems and (optional) tempo.

    Raises :class:`PresetError` for an unknown slug or a preset the stems cannot support.
    The result always passes :func:`~remixing.engine.recipe.recipe_validate`.
    """
    preset = PRESETS.get(slug)
    if preset is None:
        raise PresetError(f"unknown preset {slug!r}; choose one of {', '.join(PRESETS)}")
    missing = preset.requires - set(stems)
    if missing:
        raise PresetError(f"preset {slug!r} needs stems: {', '.join(sorted(missing))}")
    body = _BUILDERS[slug](stems, source_tempo_bpm)
    return {"version": RECIPE_VERSION, **body}


def preset_keep_cover(preset: Mapping[str, Any], *, current: Mapping[str, Any]) -> dict[str, Any]:
    """``preset`` (a :func:`preset_recipe` dict) applied over the ``current`` recipe: the
    preset's settings, with the fan's cover take kept (a preset changes the sound, not
    what the fan sang). The cover keeps the tempo it was sung at (a cover from before
    ``sung_tempo_ratio`` was sung at the current recipe's tempo), so a preset that changes
    the tempo stretches the take with the track. The studio does the same (``withPreset``
    in studio-recipe.js)."""
    applied = dict(preset)
    cover = current.get("cover")
    if cover is not None:
        applied["cover"] = {
            **cover,
            "version": COVER_VERSION,
            "sung_tempo_ratio": cover.get("sung_tempo_ratio", current.get("tempo_ratio", 1.0)),
        }
    return applied


# ---------------------------------------------------------------------------------------
# "Remix for me"
# ---------------------------------------------------------------------------------------


class Suggestion(NamedTuple):
    slug: str
    reason: str


# Weights of the scoring rule (documented so the reason string can be trusted).
_W_USED = 2.0  # each past remix with this preset (newest counts most, see _recency)
_W_MOOD = 1.0  # each mood tag of a past track that the preset lists


def classify_recipe(recipe: Mapping[str, Any]) -> str | None:
    """Best-guess preset slug for a hand-made recipe dict, or None if nothing fits.

    Rules are checked most-specific first; they read only the raw dict so an old or
    partially invalid recipe in someone's history never breaks a suggestion.
    """
    stems = recipe.get("stems") or {}
    vocals = stems.get(VOCALS) or {}
    effects = recipe.get("effects") or {}
    tempo = recipe.get("tempo_ratio", 1.0) or 1.0
    lowpass = effects.get("lowpass_hz")
    if vocals.get("solo"):
        return "a_cappella"
    if vocals.get("mute") or (vocals.get("gain_db", 0) or 0) <= -40:
        return "instrumental"
    if lowpass is not None and lowpass <= 6000:
        return "lofi"
    if tempo >= 1.04 and effects.get("compressor"):
        drums = (stems.get("drums") or {}).get("gain_db", 0) or 0
        return "club" if drums >= 4 else "workout"
    if (stems.get("drums") or {}).get("gain_db", 0) <= -12:
        return "acoustic"
    if (vocals.get("gain_db", 0) or 0) <= -9:
        return "focus"
    if tempo < 1.0 or effects.get("reverb"):
        return "chill"
    return None


def _recency(index: int, total: int) -> float:
    # Linear ramp 0.5 (oldest) .. 1.0 (newest): recent taste matters more, old still counts.
    return 1.0 if total <= 1 else 0.5 + 0.5 * index / (total - 1)


def preset_suggest(
    history: Sequence[tuple[str | Mapping[str, Any], Sequence[str]]],
    *,
    stems: Sequence[str] | None = None,
) -> Suggestion:
    """Pick a preset from a listener's history of ``(preset slug or recipe dict, moods)``.

    Score per preset = 2 x (recency-weighted times used) + 1 x (recency-weighted mood tags
    of past tracks the preset lists). Highest score wins; ties go to the gentler preset
    (``PRESET_ORDER``). Deterministic, and the reason names what drove the choice. With
    ``stems``, presets the track cannot support are skipped.
    """
    candidates = [p.slug for p in (presets_for(stems) if stems is not None else PRESETS.values())]
    if not candidates:
        raise PresetError("no preset applies to these stems")
    used = dict.fromkeys(candidates, 0.0)
    mood_hits = dict.fromkeys(candidates, 0.0)
    mood_words: dict[str, set[str]] = {slug: set() for slug in candidates}
    total = len(history)
    for index, (choice, moods) in enumerate(history):
        weight = _recency(index, total)
        slug = choice if isinstance(choice, str) else classify_recipe(choice)
        if slug in used:
            used[slug] += weight
        for mood in moods:
            word = str(mood).strip().lower()
            for candidate in candidates:
                if word in PRESETS[candidate].moods:
                    mood_hits[candidate] += weight
                    mood_words[candidate].add(word)
    scores = {s: _W_USED * used[s] + _W_MOOD * mood_hits[s] for s in candidates}
    best = max(candidates, key=lambda s: (scores[s], -PRESET_ORDER.index(s)))
    if scores[best] <= 0:
        fallback = DEFAULT_PRESET if DEFAULT_PRESET in candidates else candidates[0]
        return Suggestion(
            fallback, f"No remix history to go on yet, so we started with {PRESETS[fallback].name}."
        )
    parts = []
    if used[best] > 0:
        times = sum(
            1
            for choice, _ in history
            if (choice if isinstance(choice, str) else classify_recipe(choice)) == best
        )
        parts.append(f"you picked {PRESETS[best].name} (or something like it) {times}x")
    if mood_words[best]:
        tracks = sum(
            1
            for _, moods in history
            if {str(m).strip().lower() for m in moods} & PRESETS[best].moods
        )
        words = " or ".join(sorted(mood_words[best]))
        parts.append(f"you remixed {tracks} {words} track{'s' if tracks != 1 else ''}")
    return Suggestion(best, "Because " + " and ".join(parts) + ".")
