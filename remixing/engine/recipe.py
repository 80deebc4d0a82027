"""The remix recipe: a small, versioned JSON document describing one remix.

Example (every key except ``version`` is optional; omitted values mean "unchanged")::

    {
      "version": 1,
      "stems": {"vocals": {"gain_db": -3.0, "mute": false, "solo": false},
                "drums": {"mute": true}},
      "tempo_ratio": 1.1,          # 0.5..2.0, pitch preserved
      "key_shift": -2,             # whole semitones, -12..12
      "effects": {"highpass_hz": null, "lowpass_hz": 8000,
                  "reverb": {"room_size": 0.4, "wet": 0.2},
                  "compressor": {"threshold_db": -18, "ratio": 3},
                  "delay": {"seconds": 0.25, "feedback": 0.3, "mix": 0.2}},
      "fade_in_s": 0.5, "fade_out_s": 2.0,   # seconds of the rendered output
      "region": {"start_s": 30.0, "end_s": 90.0},
      "arrangement": {"version": 1, "crossfade_ms": 20,     # see .arrangement; not with
                      "sections": [{"start_s": 0, "end_s": 8}, ...]}, # a region
      "cover": {"version": 2, "take": "<32 hex>", "lead_s": 2.0,   # see .cover: the fan's
                "latency_ms": 35.0, "gain_db": 0.0, "mute": false, # own vocal take, and the
                "sung_tempo_ratio": 1.0}                           # tempo it was sung at
    }

Validation collects *every* problem as ``(field_path, message)`` so the API can answer 400
naming each field, e.g. ``("stems.vocals.gain_db", "must be between -60 and 12")``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .arrangement import Arrangement, ArrangementError, arrangement_validate
from .cover import Cover, CoverError, cover_conflicts, cover_validate

RECIPE_VERSION = 1

GAIN_DB_MIN, GAIN_DB_MAX = -60.0, 12.0
TEMPO_MIN, TEMPO_MAX = 0.5, 2.0
KEY_MIN, KEY_MAX = -12, 12
FILTER_HZ_MIN, FILTER_HZ_MAX = 20.0, 20000.0
THRESHOLD_DB_MIN, THRESHOLD_DB_MAX = -60.0, 0.0
RATIO_MIN, RATIO_MAX = 1.0, 20.0
DELAY_S_MIN, DELAY_S_MAX = 0.01, 2.0
FEEDBACK_MAX = 0.95
# A stem at or below this gain is treated as inaudible for the consent checks: at -40 dB a
# vocal under a full band is effectively gone, so "turn it down to -59 dB" must not be a
# loophole around a "no vocal removal" term.
INAUDIBLE_DB = -40.0

# The consent terms a recipe can use, keyed exactly as the rights-holder terms store
# them (catalog.terms.RECIPE_TERM_KEYS; a test holds the two equal).
TERM_STEM_VOLUME = "stem_volume"
TERM_TEMPO = "tempo"
TERM_KEY = "key"
TERM_EFFECTS = "effects"
TERM_VOCALS_REMOVED = "vocals_removed"
TERM_VOCALS_ISOLATED = "vocals_isolated"
# Re-arranging sections. Fail closed: until the catalog's terms carry this key, every
# rights holder counts as not allowing it.
TERM_ARRANGEMENT = "arrangement"
# Singing a cover vocal over the track (fails closed the same way).
TERM_COVERS = "covers"
TERM_PUBLICATION = "publication"  # not a recipe property; checked by the publishing flow
RECIPE_TERMS = (
    TERM_STEM_VOLUME,
    TERM_TEMPO,
    TERM_KEY,
    TERM_EFFECTS,
    TERM_VOCALS_REMOVED,
    TERM_VOCALS_ISOLATED,
    TERM_ARRANGEMENT,
    TERM_COVERS,
)
VOCALS = "vocals"

FieldError = tuple[str, str]


class RecipeError(ValueError):
    """Invalid recipe; ``errors`` lists ``(field_path, message)`` pairs."""

    def __init__(self, errors: Sequence[FieldError]):
        self.errors: list[FieldError] = list(errors)
        summary = "; ".join(f"{path or '<recipe>'}: {msg}" for path, msg in self.errors)
        super().__init__(f"invalid recipe: {summary}")

    def as_dict(self) -> dict[str, list[str]]:
        """``{field_path: [messages]}`` - the shape DRF uses for 400 responses."""
        out: dict[str, list[str]] = {}
        for path, msg in self.errors:
            out.setdefault(path, []).append(msg)
        return out


@dataclass(frozen=True)
class StemSettings:
    gain_db: float = 0.0
    mute: bool = False
    solo: bool = False

    @property
    def is_default(self) -> bool:
        return self.gain_db == 0.0 and not self.mute and not self.solo


@dataclass(frozen=True)
class ReverbSettings:
    room_size: float
    wet: float


@dataclass(frozen=True)
class CompressorSettings:
    threshold_db: float
    ratio: float


@dataclass(frozen=True)
class DelaySettings:
    seconds: float
    feedback: float
    mix: float


@dataclass(frozen=True)
class Effects:
    highpass_hz: float | None = None
    lowpass_hz: float | None = None
    reverb: ReverbSettings | None = None
    compressor: CompressorSettings | None = None
    delay: DelaySettings | None = None

    def used(self) -> list[str]:
        """Names of the effects that are switched on, in processing order."""
        names = ("highpass_hz", "lowpass_hz", "compressor", "delay", "reverb")
        return [name for name in names if getattr(self, name) is not None]


@dataclass(frozen=True)
class Region:
    start_s: float
    end_s: float

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Recipe:
    """A validated recipe. ``stems`` holds an entry for *every* stem of the track."""

    stems: Mapping[str, StemSettings] = field(default_factory=lambda: MappingProxyType({}))
    tempo_ratio: float = 1.0
    key_shift: int = 0
    effects: Effects = field(default_factory=Effects)
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    region: Region | None = None
    arrangement: Arrangement | None = None
    cover: Cover | None = None
    version: int = RECIPE_VERSION

    def __hash__(self) -> int:  # MappingProxyType is unhashable; hash the canonical JSON
        return hash(json.dumps(recipe_to_dict(self), sort_keys=True))

    def audible_stems(self) -> dict[str, float]:
        """Stems that will be heard, with linear gains (the mixer's view of solo/mute)."""
        return {
            name: db_to_gain(s.gain_db) for name, s in self.stems.items() if self.is_audible(name)
        }

    def is_audible(self, name: str) -> bool:
        """Mute always wins; when any stem is soloed only soloed stems play (DAW rules)."""
        settings = self.stems[name]
        if settings.mute:
            return False
        any_solo = any(s.solo for s in self.stems.values())
        return settings.solo or not any_solo

    def is_effectively_audible(self, name: str) -> bool:
        """Audible *and* louder than :data:`INAUDIBLE_DB` (used for consent checks)."""
        return self.is_audible(name) and self.stems[name].gain_db > INAUDIBLE_DB


def db_to_gain(db: float) -> float:
    """Decibels to a linear amplitude factor (0 dB -> 1.0, -6.02 dB -> 0.5)."""
    return float(10.0 ** (db / 20.0))


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------

_TOP_KEYS = {
    "version",
    "stems",
    "tempo_ratio",
    "key_shift",
    "effects",
    "fade_in_s",
    "fade_out_s",
    "region",
    "arrangement",
    "cover",
}
_STEM_KEYS = {"gain_db", "mute", "solo"}
_EFFECT_KEYS = {"highpass_hz", "lowpass_hz", "reverb", "compressor", "delay"}


class _Collector:
    """Accumulates field errors so one response can name every bad field at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def number(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        lo: float,
        hi: float,
        default: float | None,
        *,
        hi_label: str | None = None,
    ) -> float | None:
        if key not in obj:
            if default is None:
                self.add(path, "this field is required")
            return default
        value = obj[key]
        # bool is an int subclass in Python; "gain_db": true is a client bug, not 1 dB.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, "must be a number")
            return default
        if not math.isfinite(value):
            self.add(path, "must be a finite number")
            return default
        if not lo <= value <= hi:
            if hi_label is None and math.isinf(hi):
                self.add(path, f"must be at least {_fmt(lo)}")
            else:
                self.add(path, f"must be between {_fmt(lo)} and {hi_label or _fmt(hi)}")
            return default
        return float(value)

    def boolean(self, obj: Mapping[str, Any], key: str, path: str) -> bool:
        value = obj.get(key, False)
        if not isinstance(value, bool):
            self.add(path, "must be true or false")
            return False
        return value

    def mapping(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(path, "must be an object")
            return None
        return value

    def unknown_keys(self, obj: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in obj:
            if key not in allowed:
                name = f"{prefix}.{key}" if prefix else str(key)
                self.add(name, "unknown field")


def _fmt(value: float) -> str:
    return f"{value:g}"


def _validate_stems(c: _Collector, raw: Any, stems: Sequence[str]) -> dict[str, StemSettings]:
    result = {name: StemSettings() for name in stems}
    obj = c.mapping(raw, "stems")
    if obj is None:
        return result
    for name, entry in obj.items():
        path = f"stems.{name}"
        if name not in result:
            c.add(path, f"unknown stem; this track has: {', '.join(stems) or 'no stems'}")
            continue
        settings = c.mapping(entry, path)
        if settings is None:
            continue
        c.unknown_keys(settings, _STEM_KEYS, path)
        gain = c.number(settings, "gain_db", f"{path}.gain_db", GAIN_DB_MIN, GAIN_DB_MAX, 0.0)
        result[name] = StemSettings(
            gain_db=gain if gain is not None else 0.0,
            mute=c.boolean(settings, "mute", f"{path}.mute"),
            solo=c.boolean(settings, "solo", f"{path}.solo"),
        )
    return result


def _validate_optional_group(
    c: _Collector, effects: Mapping[str, Any], key: str, spec: dict[str, tuple[float, float]]
) -> dict[str, float] | None:
    path = f"effects.{key}"
    raw = effects.get(key)
    if raw is None:
        return None
    obj = c.mapping(raw, path)
    if obj is None:
        return None
    c.unknown_keys(obj, set(spec), path)
    values: dict[str, float] = {}
    for name, (lo, hi) in spec.items():
        value = c.number(obj, name, f"{path}.{name}", lo, hi, None)
        if value is not None:
            values[name] = value
    return values if len(values) == len(spec) else None


def _validate_filter(c: _Collector, effects: Mapping[str, Any], key: str) -> float | None:
    if effects.get(key) is None:
        return None
    return c.number(effects, key, f"effects.{key}", FILTER_HZ_MIN, FILTER_HZ_MAX, None)


def _validate_effects(c: _Collector, raw: Any) -> Effects:
    obj = c.mapping(raw, "effects")
    if obj is None:
        return Effects()
    c.unknown_keys(obj, _EFFECT_KEYS, "effects")
    highpass = _validate_filter(c, obj, "highpass_hz")
    lowpass = _validate_filter(c, obj, "lowpass_hz")
    if highpass is not None and lowpass is not None and lowpass <= highpass:
        # Both set with low <= high would band-stop everything: almost certainly a mistake.
        c.add("effects.lowpass_hz", "must be above effects.highpass_hz")
    reverb = _validate_optional_group(c, obj, "reverb", {"room_size": (0, 1), "wet": (0, 1)})
    comp = _validate_optional_group(
        c,
        obj,
        "compressor",
        {"threshold_db": (THRESHOLD_DB_MIN, THRESHOLD_DB_MAX), "ratio": (RATIO_MIN, RATIO_MAX)},
    )
    delay = _validate_optional_group(
        c,
        obj,
        "delay",
        {"seconds": (DELAY_S_MIN, DELAY_S_MAX), "feedback": (0, FEEDBACK_MAX), "mix": (0, 1)},
    )
    return Effects(
        highpass_hz=highpass,
        lowpass_hz=lowpass,
        reverb=ReverbSettings(**reverb) if reverb else None,
        compressor=CompressorSettings(**comp) if comp else None,
        delay=DelaySettings(**delay) if delay else None,
    )


def _validate_region(c: _Collector, raw: Any, duration_s: float | None) -> Region | None:
    if raw is None:
        return None
    obj = c.mapping(raw, "region")
    if obj is None:
        return None
    c.unknown_keys(obj, {"start_s", "end_s"}, "region")
    upper = duration_s if duration_s is not None else math.inf
    label = f"the track length ({_fmt(round(duration_s, 3))} s)" if duration_s is not None else None
    start = c.number(obj, "start_s", "region.start_s", 0.0, upper, None, hi_label=label)
    end = c.number(obj, "end_s", "region.end_s", 0.0, upper, None, hi_label=label)
    if start is None or end is None:
        return None
    if end <= start:
        c.add("region.end_s", "must be after region.start_s")
        return None
    return Region(start, end)


def _validate_fade(c: _Collector, obj: Mapping[str, Any], key: str, limit: float | None) -> float:
    value = c.number(obj, key, key, 0.0, math.inf, 0.0)
    if value is None:
        return 0.0
    if limit is not None and value > limit:
        c.add(key, f"must not exceed the region length ({_fmt(round(limit, 3))} s)")
        return 0.0
    return value


def _validate_arrangement(
    c: _Collector, raw: Any, duration_s: float | None, bars: Sequence[float] | None
) -> Arrangement | None:
    if raw is None:
        return None
    try:
        return arrangement_validate(raw, duration_s=duration_s, bars=bars)
    except ArrangementError as error:
        for path, message in error.errors:
            c.add(path, message)
        return None


def _validate_cover(c: _Collector, raw: Any, tempo_ratio: float) -> Cover | None:
    if raw is None:
        return None
    try:
        return cover_validate(raw, tempo_ratio=tempo_ratio)
    except CoverError as error:
        for path, message in error.errors:
            c.add(path, message)
        return None


def _validate_key_shift(c: _Collector, obj: Mapping[str, Any]) -> int:
    value = c.number(obj, "key_shift", "key_shift", KEY_MIN, KEY_MAX, 0.0)
    if value is None:
        return 0
    if value != int(value):
        c.add("key_shift", "must be a whole number of semitones")
        return 0
    return int(value)


def recipe_validate(
    data: Any,
    *,
    stems: Sequence[str],
    duration_s: float | None = None,
    bars: Sequence[float] | None = None,
) -> Recipe:
    """Validate a JSON-decoded recipe against a track's stems (and duration, if known;
    with ``bars``, an arrangement's boundaries must sit on them).

    Raises :class:`RecipeError` listing every problem. Unknown keys and stem names are
    errors (a typo must not silently become "no change").
    """
    c = _Collector()
    obj = c.mapping(data, "")
    if obj is None:
        raise RecipeError(c.errors)
    c.unknown_keys(obj, _TOP_KEYS, "")
    version = obj.get("version")
    if "version" not in obj:
        c.add("version", "this field is required")
    elif isinstance(version, bool) or version != RECIPE_VERSION:
        c.add("version", f"unsupported recipe version; expected {RECIPE_VERSION}")

    stem_settings = _validate_stems(c, obj.get("stems", {}), stems)
    tempo = c.number(obj, "tempo_ratio", "tempo_ratio", TEMPO_MIN, TEMPO_MAX, 1.0)
    key_shift = _validate_key_shift(c, obj)
    effects = _validate_effects(c, obj.get("effects", {}))
    region = _validate_region(c, obj.get("region"), duration_s)
    arrangement = _validate_arrangement(c, obj.get("arrangement"), duration_s, bars)
    cover = _validate_cover(c, obj.get("cover"), tempo if tempo is not None else 1.0)
    if region is not None and arrangement is not None:
        c.add("region", "choose an export region or an arrangement, not both")
    if cover is not None:
        for path, message in cover_conflicts(key_shift=key_shift, has_region=region is not None):
            c.add(path, message)
    limit = region.length_s if region is not None else duration_s
    if arrangement is not None:
        limit = sum(s.end_s - s.start_s for s in arrangement.sections)
    fade_in = _validate_fade(c, obj, "fade_in_s", limit)
    fade_out = _validate_fade(c, obj, "fade_out_s", limit)

    if c.errors:
        raise RecipeError(c.errors)
    return Recipe(
        stems=MappingProxyType(stem_settings),
        tempo_ratio=tempo if tempo is not None else 1.0,
        key_shift=key_shift,
        effects=effects,
        fade_in_s=fade_in,
        fade_out_s=fade_out,
        region=region,
        arrangement=arrangement,
        cover=cover,
    )


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """Canonical JSON-ready form; ``recipe_validate(recipe_to_dict(r), ...) == r``."""
    fx = recipe.effects
    return {
        "version": recipe.version,
        "stems": {
            name: {"gain_db": s.gain_db, "mute": s.mute, "solo": s.solo}
            for name, s in recipe.stems.items()
        },
        "tempo_ratio": recipe.tempo_ratio,
        "key_shift": recipe.key_shift,
        "effects": {
            "highpass_hz": fx.highpass_hz,
            "lowpass_hz": fx.lowpass_hz,
            "reverb": None
            if fx.reverb is None
            else {"room_size": fx.reverb.room_size, "wet": fx.reverb.wet},
            "compressor": None
            if fx.compressor is None
            else {"threshold_db": fx.compressor.threshold_db, "ratio": fx.compressor.ratio},
            "delay": None
            if fx.delay is None
            else {"seconds": fx.delay.seconds, "feedback": fx.delay.feedback, "mix": fx.delay.mix},
        },
        "fade_in_s": recipe.fade_in_s,
        "fade_out_s": recipe.fade_out_s,
        "region": None
        if recipe.region is None
        else {"start_s": recipe.region.start_s, "end_s": recipe.region.end_s},
        # Only when set, so recipes saved before arrangements keep their canonical form.
        **({} if recipe.arrangement is None else {"arrangement": recipe.arrangement.as_dict()}),
        **({} if recipe.cover is None else {"cover": recipe.cover.as_dict()}),
    }


# ---------------------------------------------------------------------------------------
# Consent terms
# ---------------------------------------------------------------------------------------


def _vocals_removed(recipe: Recipe) -> bool:
    if VOCALS not in recipe.stems:
        return False
    others_audible = any(
        recipe.is_effectively_audible(name) for name in recipe.stems if name != VOCALS
    )
    return others_audible and not recipe.is_effectively_audible(VOCALS)


def _vocals_isolated(recipe: Recipe) -> bool:
    if VOCALS not in recipe.stems or not recipe.is_effectively_audible(VOCALS):
        return False
    return not any(recipe.is_effectively_audible(name) for name in recipe.stems if name != VOCALS)


def recipe_term_fields(recipe: Recipe) -> dict[str, list[str]]:
    """For each consent term the recipe uses, the fields that use it.

    ``static/js/studio-recipe.js`` (``termFields``) must agree: a test runs both on a
    shared corpus (tests/remixing/engine/test_recipe_rules_js.py)."""
    used: dict[str, list[str]] = {}
    changed = [name for name, s in recipe.stems.items() if not s.is_default]
    if changed:
        used[TERM_STEM_VOLUME] = [f"stems.{name}" for name in changed]
    if recipe.tempo_ratio != 1.0:
        used[TERM_TEMPO] = ["tempo_ratio"]
    if recipe.key_shift != 0:
        used[TERM_KEY] = ["key_shift"]
    effects = recipe.effects.used()
    if effects:
        used[TERM_EFFECTS] = [f"effects.{name}" for name in effects]
    if _vocals_removed(recipe):
        used[TERM_VOCALS_REMOVED] = [f"stems.{VOCALS}"]
    if _vocals_isolated(recipe):
        used[TERM_VOCALS_ISOLATED] = [f"stems.{VOCALS}"]
    if recipe.arrangement is not None:
        used[TERM_ARRANGEMENT] = ["arrangement"]
    if recipe.cover is not None:
        used[TERM_COVERS] = ["cover"]
    return used


def recipe_transformations(recipe: Recipe) -> set[str]:
    """Which consent terms (see :data:`RECIPE_TERMS`) this recipe relies on.

    Fades and region trimming are edits, not transformations, and need no term.
    """
    return set(recipe_term_fields(recipe))


def recipe_forbidden_transformations(
    recipe: Recipe, *, allowed: Mapping[str, bool], refusals: Mapping[str, str]
) -> list[FieldError]:
    """``(field_path, message)`` for every use of a term the rights holder did not allow.

    Fails closed: a term missing from ``allowed`` counts as not allowed. ``publication``
    (and any unknown key) in ``allowed`` is ignored here. Note that an instrumental needs
    both ``stem_volume`` and ``vocals_removed``: muting is a volume change *and* a removal.
    ``refusals`` gives each term's message; the engine owns no wording of the terms
    (catalog's table of consent terms does, and the caller passes it in).
    """
    problems: list[FieldError] = []
    for term, fields in recipe_term_fields(recipe).items():
        if allowed.get(term) is not True:
            message = refusals.get(term) or f"{term} is not allowed by the artist's terms."
            problems.extend((path, message) for path in fields)
    return problems
