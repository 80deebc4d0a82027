"""Describe your remix, the working side: the result types, the parsing state (the
working recipe a description changes), the labels the studio shows for each change and
the actions a phrase runs (see :mod:`remixing.engine.describe`)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .describe_vocabulary import (
    NUMBER_WORDS,
    stem_for,
)
from .presets import PRESETS, PresetError, preset_recipe
from .recipe import (
    FILTER_HZ_MAX,
    FILTER_HZ_MIN,
    GAIN_DB_MAX,
    GAIN_DB_MIN,
    KEY_MAX,
    KEY_MIN,
    TEMPO_MAX,
    TEMPO_MIN,
    TERM_EFFECTS,
    TERM_KEY,
    TERM_STEM_VOLUME,
    TERM_TEMPO,
    TERM_VOCALS_ISOLATED,
    TERM_VOCALS_REMOVED,
)

MAX_TEXT_CHARS = 500

REFUSED = "refused"
FORBIDDEN = "forbidden"
UNAVAILABLE = "unavailable"
UNKNOWN = "unknown"

TERM_WORDS = {
    TERM_STEM_VOLUME: "changing stem volumes",
    TERM_TEMPO: "tempo changes",
    TERM_KEY: "key changes",
    TERM_EFFECTS: "effects",
    TERM_VOCALS_REMOVED: "removing the vocals",
    TERM_VOCALS_ISOLATED: "isolating the vocals",
}


@dataclass(frozen=True)
class Change:
    """One recipe field set to one value, because of ``words``."""

    path: str  # "tempo_ratio", "key_shift", "stems.vocals.mute", "effects.reverb", "region"
    value: Any
    words: str
    label: str
    term: str | None  # the consent term this change relies on (None: fades, region)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "value": self.value,
            "words": self.words,
            "label": self.label,
            "term": self.term,
            **_editing_hints(self.path),
        }


@dataclass(frozen=True)
class Unhonoured:
    words: str
    reason: str  # REFUSED | FORBIDDEN | UNAVAILABLE | UNKNOWN
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"words": self.words, "reason": self.reason, "message": self.message}


@dataclass(frozen=True)
class Description:
    changes: tuple[Change, ...]
    unhonoured: tuple[Unhonoured, ...]
    presets: tuple[str, ...]
    recipe: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.as_dict() for c in self.changes],
            "not_honoured": [u.as_dict() for u in self.unhonoured],
            "presets": list(self.presets),
            "recipe": self.recipe,
        }


@dataclass(frozen=True)
class Track:
    """What the parser knows about the track being remixed."""

    stems: Sequence[str]
    tempo_bpm: float | None = None
    duration_s: float | None = None


# ---------------------------------------------------------------------------------------
# Parsing state
# ---------------------------------------------------------------------------------------


@dataclass
class Intent:
    start: int
    words: str
    apply: Callable[[RecipeState], None]


@dataclass
class RecipeState:
    track: Track
    recipe: dict[str, Any]  # the working recipe (canonical dict), mutated as changes apply
    changes: dict[str, Change] = field(default_factory=dict)  # path -> latest change
    unhonoured: list[Unhonoured] = field(default_factory=list)
    presets: list[str] = field(default_factory=list)
    excluded_presets: set[str] = field(default_factory=set)
    locks: dict[str, str] = field(default_factory=dict)  # path prefix -> words
    tempo_floor: float | None = None
    tempo_ceiling: float | None = None

    def get(self, path: str) -> Any:
        node: Any = self.recipe
        for part in path.split("."):
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def set(self, path: str, value: Any, words: str, label: str, term: str | None) -> None:
        parts = path.split(".")
        node = self.recipe
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        self.changes.pop(path, None)  # re-insert: the list keeps the order of the last word
        self.changes[path] = Change(path, value, words, label, term)

    def refuse(self, words: str, reason: str, message: str) -> None:
        self.unhonoured.append(Unhonoured(words.strip(), reason, message))


def num(text: str | None) -> float | None:
    if text is None:
        return None
    text = re.sub(r"\s+", " ", text.strip())
    if text in NUMBER_WORDS:
        return float(NUMBER_WORDS[text])
    try:
        return float(text)
    except ValueError:
        return None


def degree_of(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups.get("small") or groups.get("small_t"):
        return "small"
    if groups.get("big") or groups.get("big_t"):
        return "big"
    return "normal"


def clamp(value: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, value))


def _fmt_s(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


# ---------------------------------------------------------------------------------------
# Labels and editing hints (what the studio shows for each change)
# ---------------------------------------------------------------------------------------


def _tempo_label(ratio: float, bpm: float | None) -> str:
    text = f"Tempo {round(ratio * 100)}% of the original"
    return text + (f" ({round(bpm * ratio)} BPM)" if bpm else "")


def _key_label(shift: int) -> str:
    if shift == 0:
        return "Original key"
    word = "semitone" if abs(shift) == 1 else "semitones"
    return f"Key {shift:+d} {word} ({'higher' if shift > 0 else 'lower'})"


_EFFECT_NAMES = {
    "reverb": "Reverb",
    "delay": "Echo (delay)",
    "compressor": "Compressor",
    "lowpass_hz": "Low-pass filter",
    "highpass_hz": "High-pass filter",
}


def _effect_label(name: str, value: Any) -> str:
    title = _EFFECT_NAMES[name]
    if value is None:
        return f"{title} off"
    if name in ("lowpass_hz", "highpass_hz"):
        return f"{title} at {round(value)} Hz"
    if name == "reverb":
        return f"{title}: room {round(value['room_size'] * 100)}%, wet {round(value['wet'] * 100)}%"
    if name == "compressor":
        return f"{title}: {value['threshold_db']:g} dB threshold, {value['ratio']:g}:1"
    return f"{title}: {value['seconds']:.2f} s, feedback {round(value['feedback'] * 100)}%"


def _editing_hints(path: str) -> dict[str, Any]:
    """Bounds for the studio's editable field (None where the value is not a number)."""
    if path == "tempo_ratio":
        return {"min": TEMPO_MIN, "max": TEMPO_MAX, "step": 0.01, "unit": "x"}
    if path == "key_shift":
        return {"min": KEY_MIN, "max": KEY_MAX, "step": 1, "unit": "semitones"}
    if path.endswith(".gain_db"):
        return {"min": GAIN_DB_MIN, "max": GAIN_DB_MAX, "step": 0.5, "unit": "dB"}
    if path in ("effects.lowpass_hz", "effects.highpass_hz"):
        return {"min": FILTER_HZ_MIN, "max": FILTER_HZ_MAX, "step": 1, "unit": "Hz"}
    if path in ("fade_in_s", "fade_out_s"):
        return {"min": 0, "max": None, "step": 0.1, "unit": "s"}
    return {}


# ---------------------------------------------------------------------------------------
# Actions (what each kind of phrase does to the working recipe)
# ---------------------------------------------------------------------------------------


def set_tempo(state: RecipeState, ratio: float, words: str) -> None:
    wanted = ratio
    ratio = clamp(ratio, TEMPO_MIN, TEMPO_MAX)
    if state.tempo_floor is not None:
        ratio = max(ratio, state.tempo_floor)
    if state.tempo_ceiling is not None:
        ratio = min(ratio, state.tempo_ceiling)
    ratio = round(ratio, 3)
    if abs(wanted - ratio) > 0.005 and not (TEMPO_MIN <= wanted <= TEMPO_MAX):
        state.refuse(
            words,
            UNAVAILABLE,
            f"The tempo can go from {TEMPO_MIN:.0%} to {TEMPO_MAX:.0%} of the original; "
            f"set to {ratio:.0%}.",
        )
    label = _tempo_label(ratio, state.track.tempo_bpm)
    state.set("tempo_ratio", ratio, words, label, TERM_TEMPO)


def scale_tempo(state: RecipeState, factor: float, words: str) -> None:
    set_tempo(state, float(state.get("tempo_ratio") or 1.0) * factor, words)


def set_key(state: RecipeState, shift: float, words: str) -> None:
    wanted = round(shift)
    value = int(clamp(wanted, KEY_MIN, KEY_MAX))
    if value != wanted:
        state.refuse(
            words,
            UNAVAILABLE,
            f"The key can move at most {KEY_MAX} semitones up or down; set to {value:+d}.",
        )
    state.set("key_shift", value, words, _key_label(value), TERM_KEY)


def shift_key(state: RecipeState, delta: float, words: str) -> None:
    set_key(state, int(state.get("key_shift") or 0) + delta, words)


def stem_name(state: RecipeState, word: str, words: str) -> str | None:
    stem = stem_for(word, state.track.stems)
    if stem is None:
        have = ", ".join(state.track.stems) or "none yet"
        state.refuse(words, UNAVAILABLE, f"This track has no separate {word} (its stems: {have}).")
    return stem


def stem_mute(state: RecipeState, stem: str, mute: bool, words: str) -> None:
    if bool(state.get(f"stems.{stem}.mute")) == mute:
        return
    label = f"{'Mute' if mute else 'Unmute'} the {stem}"
    state.set(f"stems.{stem}.mute", mute, words, label, TERM_STEM_VOLUME)


def stem_solo(state: RecipeState, stem: str, words: str, together: Sequence[str] = ()) -> None:
    for other in state.track.stems:
        if other != stem and other not in together and state.get(f"stems.{other}.solo"):
            state.set(f"stems.{other}.solo", False, words, f"Un-solo the {other}", TERM_STEM_VOLUME)
    stem_mute(state, stem, False, words)
    state.set(f"stems.{stem}.solo", True, words, f"Solo the {stem}", TERM_STEM_VOLUME)


def stem_gain(state: RecipeState, stem: str, db: float, words: str, *, relative: bool) -> None:
    current = float(state.get(f"stems.{stem}.gain_db") or 0.0)
    value = round(clamp(current + db if relative else db, GAIN_DB_MIN, GAIN_DB_MAX), 1)
    if db > 0:
        stem_mute(state, stem, False, words)
    state.set(
        f"stems.{stem}.gain_db",
        value,
        words,
        f"{stem.capitalize()} at {value:+g} dB",
        TERM_STEM_VOLUME,
    )


def set_effect(state: RecipeState, name: str, value: Any, words: str) -> None:
    state.set(f"effects.{name}", value, words, _effect_label(name, value), TERM_EFFECTS)


def clear_effects(state: RecipeState, names: Sequence[str], words: str) -> None:
    for name in names:
        if state.get(f"effects.{name}") is not None or f"effects.{name}" in state.changes:
            set_effect(state, name, None, words)
        state.locks[f"effects.{name}"] = words


def set_fade(state: RecipeState, which: str, seconds: float, words: str) -> None:
    path = f"fade_{which}_s"
    duration = state.track.duration_s
    limit = duration / 3 if duration else None
    value = round(seconds, 1)
    if limit is not None and value > limit:
        value = round(math.floor(limit * 10) / 10, 1)
        state.refuse(
            words, UNAVAILABLE, f"A fade may take at most a third of the track; set to {value:g} s."
        )
    label = f"Fade {which} {value:g} s" if value else f"No fade {which}"
    state.set(path, value, words, label, None)


def set_region(state: RecipeState, start: float, end: float, words: str) -> None:
    duration = state.track.duration_s
    if duration is not None:
        end = min(end, duration)
    if end <= start:
        state.refuse(words, UNAVAILABLE, "That part of the track is empty or past its end.")
        return
    region = {"start_s": round(float(start), 2), "end_s": round(float(end), 2)}
    state.set("region", region, words, f"Export only {_fmt_s(start)} to {_fmt_s(end)}", None)


def apply_preset(state: RecipeState, slug: str, words: str) -> None:
    try:
        recipe = preset_recipe(
            slug, stems=list(state.track.stems), source_tempo_bpm=state.track.tempo_bpm
        )
    except PresetError:
        missing = ", ".join(sorted(PRESETS[slug].requires - set(state.track.stems)))
        state.refuse(
            words, UNAVAILABLE, f"{PRESETS[slug].name} needs stems this track lacks: {missing}."
        )
        return
    state.presets.append(slug)
    for stem, settings in (recipe.get("stems") or {}).items():
        if settings.get("mute"):
            stem_mute(state, stem, True, words)
        if settings.get("solo"):
            stem_solo(state, stem, words)
        if "gain_db" in settings:
            stem_gain(state, stem, settings["gain_db"], words, relative=False)
    if "tempo_ratio" in recipe:
        set_tempo(state, recipe["tempo_ratio"], words)
    for name_fx, value in (recipe.get("effects") or {}).items():
        set_effect(state, name_fx, value, words)
    for key in ("fade_in_s", "fade_out_s"):
        if key in recipe:
            set_fade(state, key[5:-2], recipe[key], words)
