"""Describe your remix, the rules (second part, tried after :mod:`.describe_rules`):
key, effects, fades, the export region, reset and presets."""

from __future__ import annotations

import re
from collections.abc import Callable

from .describe_changes import (
    UNAVAILABLE,
    UNKNOWN,
    RecipeState,
    Track,
    apply_preset,
    clamp,
    degree_of,
    num,
    set_effect,
    set_fade,
    set_key,
    set_region,
    set_tempo,
    shift_key,
    stem_gain,
    stem_mute,
)
from .describe_rules import (
    TRAIL,
    Rules,
    rule_adder,
)
from .describe_vocabulary import (
    DEGREE,
    NUM,
    PRESET_WORD,
    PRESET_WORDS,
)
from .recipe import (
    FILTER_HZ_MAX,
    FILTER_HZ_MIN,
    TERM_STEM_VOLUME,
)

RULES: Rules = []
rule = rule_adder(RULES)


# --- key --------------------------------------------------------------------------------
_UNIT_SEMITONES = {
    "semitone": 1,
    "half step": 1,
    "st": 1,
    "whole step": 2,
    "tone": 2,
    "step": 2,
    "octave": 12,
}
_KEY_UNIT = r"(?P<unit>semi-?tones?|half[- ]steps?|whole[- ]steps?|steps?|tones?|st|octaves?)"
_UP = r"up|higher|raise[ds]?|sharper|pitched\s+up|pitch\s+up|transpose[ds]?\s+up"
_DOWN = r"down|lower(?:ed)?|flatter|pitched\s+down|pitch\s+down|transpose[ds]?\s+down|drop(?:ped)?"


@rule(
    r"(?:\b(?P<d1>"
    + _UP
    + r"|"
    + _DOWN
    + r"|transpose[ds]?)\s+(?:it\s+|the\s+key\s+|the\s+pitch\s+|key\s+|pitch\s+)?"
    r"(?:by\s+)?)?(?<![a-z])(?P<sign>[+-])?(?P<n>"
    + NUM
    + r")\s*"
    + _KEY_UNIT
    + r"(?:\s+(?P<d2>"
    + _UP
    + r"|"
    + _DOWN
    + r"))?\b"
)
def _key_steps(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    n = num(match.group("n")) or 0.0
    unit = re.sub(r"[- ]", " ", match.group("unit")).rstrip("s").replace("semi tone", "semitone")
    unit = "semitone" if unit.startswith("semi") else unit
    per = _UNIT_SEMITONES.get(unit, 1)
    direction = match.group("d1") or match.group("d2") or ""
    sign = match.group("sign")
    words = match.group(0)
    if re.fullmatch(_UP, direction) or sign == "+":
        delta = n * per
    elif re.fullmatch(_DOWN, direction) or sign == "-":
        delta = -n * per
    else:

        def ask(state: RecipeState) -> None:
            state.refuse(
                words,
                UNKNOWN,
                "Say whether the key goes up or down (for example 'up 2 semitones').",
            )

        return ask
    return lambda state: shift_key(state, delta, words)


@rule(
    r"\b(?:in\s+)?(?:a\s+)?(?:" + DEGREE + r"\s+)?(?P<dir>higher|lower)\s+(?:key|pitch|register)\b"
    r"|\b(?P<verb>raise|lower|drop)\s+(?:the\s+)?(?:key|pitch)\b"
    + TRAIL
    + r"|\b(?:key|pitch)\s+(?P<dir2>up|down|higher|lower)\b"
    r"|\bpitch(?:ed)?\s+(?:it\s+)?(?P<dir3>up|down)\b"
)
def _key_words(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    direction = (
        match.group("dir") or match.group("verb") or match.group("dir2") or match.group("dir3")
    )
    up = direction in ("higher", "raise", "up")
    size = {"small": 1, "normal": 2, "big": 4}[degree_of(match)]
    return lambda state: shift_key(state, size if up else -size, match.group(0))


# --- effects ----------------------------------------------------------------------------
_HZ = r"(?P<hz>\d+(?:\.\d+)?)\s*(?P<k>k)?(?:hz)?"


@rule(r"\b(?P<kind>low|high)[- ]?pass(?:\s+filter)?(?:\s+(?:at|to|of|around))?\s+" + _HZ + r"\b")
def _filter_hz(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    hz = float(match.group("hz")) * (1000 if match.group("k") else 1)
    name = "lowpass_hz" if match.group("kind") == "low" else "highpass_hz"
    hz = clamp(hz, FILTER_HZ_MIN, FILTER_HZ_MAX)
    return lambda state: set_effect(state, name, hz, match.group(0))


@rule(r"\b(?:telephone|phone|old\s+radio|radio|walkie[- ]talkie|megaphone)\b")
def _telephone(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    def act(state: RecipeState) -> None:
        set_effect(state, "highpass_hz", 400.0, match.group(0))
        set_effect(state, "lowpass_hz", 3400.0, match.group(0))

    return act


@rule(
    r"\b(?:" + DEGREE + r"\s+)?(?:more\s+)?(?:muffled|muffle|darker|dark|warmer|warm|underwater|"
    r"dull(?:er)?|vintage|less\s+bright|low-?pass(?:ed)?|smoother\s+highs)\b"
)
def _lowpass(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    hz = {"small": 8000.0, "normal": 5000.0, "big": 2500.0}[degree_of(match)]
    return lambda state: set_effect(state, "lowpass_hz", hz, match.group(0))


@rule(r"\b(?:thin(?:ner)?|tinny|less\s+rumble|high-?pass(?:ed)?|less\s+low\s+end|no\s+rumble)\b")
def _highpass(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    return lambda state: set_effect(state, "highpass_hz", 150.0, match.group(0))


@rule(
    r"\b(?:brighter|bright|crisp(?:er)?|clearer|more\s+(?:treble|highs|sparkle)|airier|open\s+up\s+the\s+top)\b"
)
def _brighter(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    def act(state: RecipeState) -> None:
        if state.get("effects.lowpass_hz") is not None:
            set_effect(state, "lowpass_hz", None, match.group(0))

    return act


@rule(
    r"\b(?:" + DEGREE + r"\s+)?(?:(?:with|some|more|a|lots\s+of|plenty\s+of|add)\s+)*"
    r"(?:reverb(?:ed|b)?|reverberation|space|spacious|roomy|echoey|ambience|airy|hall|cathedral|"
    r"washed[- ]out|big\s+room)\b"
)
def _reverb(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    degree = (
        "big"
        if re.search(r"\b(?:lots|plenty|cathedral|hall|washed)", match.group(0))
        else degree_of(match)
    )
    value = {
        "small": {"room_size": 0.35, "wet": 0.12},
        "normal": {"room_size": 0.5, "wet": 0.25},
        "big": {"room_size": 0.85, "wet": 0.4},
    }[degree]
    return lambda state: set_effect(state, "reverb", value, match.group(0))


@rule(
    r"\b(?:(?:with|some|more|an?|add)\s+)*(?:(?P<ms>\d+)\s*(?:ms|milliseconds?)\s+)?"
    r"(?:echo(?:es)?|delay|slap-?back|ping-?pong)\b"
)
def _delay(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    seconds = int(match.group("ms")) / 1000 if match.group("ms") else 0.3
    seconds = clamp(seconds, 0.01, 2.0)
    value = {"seconds": round(seconds, 3), "feedback": 0.35, "mix": 0.25}
    return lambda state: set_effect(state, "delay", value, match.group(0))


@rule(
    r"\b(?:"
    + DEGREE
    + r"\s+)?(?:more\s+)?(?:compress(?:ed|ion|or)?|punchy|punchier|punch|glued|glue|"
    r"squashed|tight(?:er)?)\b"
)
def _compressor(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    value = (
        {"threshold_db": -24.0, "ratio": 6.0}
        if degree_of(match) == "big"
        else {"threshold_db": -18.0, "ratio": 3.0}
    )
    return lambda state: set_effect(state, "compressor", value, match.group(0))


# --- fades ------------------------------------------------------------------------------
_SECONDS = r"(?:seconds?|secs?|s)"


@rule(
    r"\b(?:with\s+)?(?:an?\s+)?(?:(?P<n>" + NUM + r")[- ]?" + _SECONDS + r"\s+)?(?:long\s+)?"
    r"fades?[- ]?(?P<which>in|out|ins|outs)?(?:\s+and\s+(?:a\s+)?(?:fade[- ]?)?(?P<other>in|out))?"
    r"(?:\s+(?:of|over|for|lasting)\s+(?P<n2>" + NUM + r")\s*" + _SECONDS + r")?\b"
)
def _fade(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    which = (match.group("which") or "").rstrip("s")
    sides = [which] if which else ["in", "out"]
    if match.group("other"):
        sides.append(match.group("other"))
    before, after = num(match.group("n")), num(match.group("n2"))

    def act(state: RecipeState) -> None:
        for index, side in enumerate(dict.fromkeys(sides)):
            # "a 5 second fade in and a fade out": the length named before belongs to the
            # first fade only; one named after ("fade in and out over 4 s") to both.
            seconds = after if after is not None else before if index == 0 else None
            default = 2.0 if side == "in" else 3.0
            set_fade(state, side, seconds if seconds is not None else default, match.group(0))

    return act


# --- export region ----------------------------------------------------------------------
_TIME = r"(?:\d+:\d{2}|" + NUM + r"\s*(?:seconds?|secs?|s|minutes?|mins?|m)?)"
# A length after "first"/"last" needs its unit ("the first one" is not a length).
_LENGTH = r"(?:\d+:\d{2}|minute|" + NUM + r"\s*(?:seconds?|secs?|s|minutes?|mins?)\b)"


def _seconds(text: str) -> float | None:
    text = text.strip()
    if text == "minute":
        return 60.0
    if ":" in text:
        minutes, secs = text.split(":")
        return int(minutes) * 60 + int(secs)
    m = re.match(r"(" + NUM + r")\s*(\w+)?", text)
    if not m:
        return None
    value = num(m.group(1))
    if value is None:
        return None
    unit = m.group(2) or "s"
    return value * 60 if unit.startswith("m") else value


@rule(
    r"\b(?:just\s+|only\s+)?(?:the\s+)?(?P<which>first|last|opening|final)\s+(?P<t>"
    + _LENGTH
    + r")"
)
def _region_edge(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    length = _seconds(match.group("t")) or 0.0
    first = match.group("which") in ("first", "opening")

    def act(state: RecipeState) -> None:
        if first:
            set_region(state, 0.0, length, match.group(0))
        elif state.track.duration_s is None:
            state.refuse(match.group(0), UNAVAILABLE, "This track's length is not known yet.")
        else:
            end = state.track.duration_s
            set_region(state, max(0.0, end - length), end, match.group(0))

    return act


@rule(r"\bfrom\s+(?P<a>" + _TIME + r")\s+(?:to|until|till|-)\s+(?P<b>" + _TIME + r")")
def _region_range(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    start, end = _seconds(match.group("a")) or 0.0, _seconds(match.group("b")) or 0.0
    return lambda state: set_region(state, start, end, match.group(0))


@rule(r"\b(?:the\s+)?(?:whole|full|entire)\s+(?:track|song|thing|length)\b|\bfull[- ]length\b")
def _whole_track(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    def act(state: RecipeState) -> None:
        if state.get("region") is not None:
            state.set("region", None, match.group(0), "Export the whole track", None)

    return act


# --- reset and presets -------------------------------------------------------------------
@rule(
    r"\b(?:start\s+(?:over|again)|reset(?:\s+everything)?|from\s+scratch|back\s+to\s+(?:the\s+)?original|undo\s+everything)\b"
)
def _reset(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    def act(state: RecipeState) -> None:
        words = match.group(0)
        for stem in state.track.stems:
            if state.get(f"stems.{stem}.mute"):
                stem_mute(state, stem, False, words)
            if state.get(f"stems.{stem}.solo"):
                state.set(
                    f"stems.{stem}.solo", False, words, f"Un-solo the {stem}", TERM_STEM_VOLUME
                )
            if state.get(f"stems.{stem}.gain_db"):
                stem_gain(state, stem, 0.0, words, relative=False)
        if state.get("tempo_ratio") not in (None, 1.0):
            set_tempo(state, 1.0, words)
        if state.get("key_shift"):
            set_key(state, 0, words)
        for name in ("highpass_hz", "lowpass_hz", "compressor", "delay", "reverb"):
            if state.get(f"effects.{name}") is not None:
                set_effect(state, name, None, words)
        for side in ("in", "out"):
            if state.get(f"fade_{side}_s"):
                set_fade(state, side, 0.0, words)

    return act


_PRESET_INTENT = "preset"


@rule(r"\b" + PRESET_WORD + r"\b")
def _preset(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    slug, kind = PRESET_WORDS[re.sub(r"\s+", " ", match.group("preset"))]
    act = lambda state: apply_preset(state, slug, match.group(0))  # noqa: E731
    act.preset = (slug, kind)  # type: ignore[attr-defined]
    return act
