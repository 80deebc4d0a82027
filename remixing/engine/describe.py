"""Describe your remix: a sentence turned into recipe changes (no Django, no network).

"a chill lo-fi version for studying, no vocals, a bit slower" becomes a list of
:class:`Change` objects (each names the recipe field it sets, the new value, the words that
asked for it and the consent term it relies on), the recipe those changes produce, and every
phrase the parser could not honour with the reason:

- ``refused``: Clearmix never does it (remove credits, clone a voice, add another recording);
- ``forbidden``: the rights holders' consent terms do not allow it;
- ``unavailable``: the studio cannot do it for this track (no such stem, tempo unknown);
- ``unknown``: words the parser did not understand.

The parser is a fixed list of patterns over the studio's own vocabulary (presets and their
mood words, stems, tempo and key words, effects, fades, the export region), tried in a fixed
order; each phrase is claimed by the first pattern that matches it, so the same sentence
always gives the same answer. Presets are layered activity, then mood, then genre (the most
specific wins a conflict); explicit words ("no vocals", "10% faster") then apply on top, in
the order they were written; "keep the tempo"-style locks come last and win.

This module claims phrases and builds the result; the vocabulary is in
:mod:`.describe_vocabulary`, the result types, working recipe and actions in
:mod:`.describe_changes`, the rules in :mod:`.describe_rules` and :mod:`.describe_sound_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .describe_changes import (
    FORBIDDEN,
    MAX_TEXT_CHARS,
    TERM_WORDS,
    UNAVAILABLE,
    UNKNOWN,
    Change,
    Description,
    Intent,
    RecipeState,
    Track,
)
from .describe_rules import RULES as FIRST_RULES
from .describe_sound_rules import RULES as SOUND_RULES
from .recipe import (
    INAUDIBLE_DB,
    RECIPE_VERSION,
    TERM_VOCALS_ISOLATED,
    TERM_VOCALS_REMOVED,
    VOCALS,
    RecipeError,
    recipe_forbidden_transformations,
    recipe_to_dict,
    recipe_validate,
)

# Tried in this order: a phrase belongs to the first rule that matches it.
_RULES = (*FIRST_RULES, *SOUND_RULES)

# ---------------------------------------------------------------------------------------
# Unknown words
# ---------------------------------------------------------------------------------------

_FILLER = set(
    """a an the it its it's this that these make makes making made turn turned give get let's lets
    version versions mix remix edit track song tune for with and but or plus also then while so
    please pls i i'd id i'm want wanna would like could can you me my some something kind sort
    type of to in into on at as be is are was feel feeling vibe vibes vibey style sound sounding
    sounds just really very more bit little touch little tad everything all thing one mode
    put have has okay ok maybe yes music songs tunes playlist session""".split()
)
_CONNECTORS = r"\b(?:and|but|then|also|plus|with|while|so)\b"


def _unknown_phrases(text: str, claimed: list[tuple[int, int]]) -> list[str]:
    chars = list(text)
    for start, end in claimed:
        for i in range(start, end):
            chars[i] = "|"
    remaining = "".join(chars)
    phrases = []
    for chunk in re.split(r"[|,;.!?:()\"]+|" + _CONNECTORS, remaining):
        words = re.findall(r"[\w%'+-]+", chunk or "")
        while words and words[0] in _FILLER:
            words.pop(0)
        while words and words[-1] in _FILLER:
            words.pop()
        if words:
            phrases.append(" ".join(words))
    return phrases


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    for fancy, plain in (("\u2019", "'"), ("\u2018", "'"), ("\u2013", "-"), ("\u2014", ", ")):
        text = text.replace(fancy, plain)
    text = text.lower()
    return re.sub(r"\s+", " ", text).strip()


def _claim(text: str, track: Track) -> tuple[list[Intent], list[tuple[int, int]]]:
    claimed: list[tuple[int, int]] = []
    intents: list[Intent] = []
    for pattern, handler in _RULES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if end == start or any(start < e and s < end for s, e in claimed):
                continue
            action = handler(match, track)
            claimed.append((start, end))
            if action is not None:
                intents.append(Intent(start, match.group(0).strip(), action))
    intents.sort(key=lambda intent: intent.start)
    return intents, claimed


def _run_intents(state: RecipeState, intents: list[Intent]) -> None:
    presets = [i for i in intents if hasattr(i.apply, "preset")]
    others = [i for i in intents if not hasattr(i.apply, "preset")]
    # Negations ("not lo-fi", "not too slow") and locks must be known before anything applies.
    negations = [i for i in others if getattr(i.apply, "early", False)]
    for intent in negations:
        intent.apply(state)
    seen: set[str] = set()
    ordered = sorted(
        presets,
        key=lambda i: (i.apply.preset[1], i.start),  # type: ignore[attr-defined]
    )
    for intent in ordered:
        slug = intent.apply.preset[0]  # type: ignore[attr-defined]
        if slug in state.excluded_presets or slug in seen:
            continue
        seen.add(slug)
        intent.apply(state)
    for intent in others:
        if intent not in negations:
            intent.apply(state)


def _undo_locked(state: RecipeState, base: Mapping[str, Any]) -> None:
    """A lock ("keep the tempo", "keep the vocals") wins over every other word."""
    for prefix in state.locks:
        for path in list(state.changes):
            change = state.changes[path]
            if path != prefix and not path.startswith(prefix + "."):
                continue
            if prefix.startswith("stems.") and path.endswith(".mute") and change.value is False:
                continue  # "keep the vocals" itself unmutes
            if prefix.startswith(("effects.", "fade_")) and change.words == state.locks[prefix]:
                continue  # "no reverb" itself switches reverb off
            del state.changes[path]


def _apply(base: Mapping[str, Any], changes: Sequence[Change]) -> dict[str, Any]:
    recipe: dict[str, Any] = _deep_copy(base)
    for change in changes:
        parts = change.path.split(".")
        node = recipe
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = _deep_copy(change.value)
    return recipe


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _drop_forbidden(
    state: RecipeState, base: dict[str, Any], allowed: Mapping[str, bool]
) -> list[Change]:
    """Changes the terms allow; the rest are reported as forbidden, with the words."""
    changes = list(state.changes.values())
    kept: list[Change] = []
    for change in changes:
        if change.term is not None and allowed.get(change.term) is not True:
            _report_forbidden(state, change.words, change.term)
        else:
            kept.append(change)
    # Removing or isolating the vocals is a property of the whole recipe, not of one field.
    for _ in range(3):
        try:
            recipe = recipe_validate(_apply(base, kept), stems=list(state.track.stems))
        except RecipeError:
            break
        problems = recipe_forbidden_transformations(recipe, allowed=allowed, refusals={})
        terms = {
            term
            for term in (TERM_VOCALS_REMOVED, TERM_VOCALS_ISOLATED)
            if allowed.get(term) is not True
        }
        culprits = [
            c for c in kept if c.path.startswith("stems.") and _affects_vocal_terms(c, terms)
        ]
        if not problems or not culprits:
            break
        for change in culprits:
            term = (
                TERM_VOCALS_REMOVED
                if VOCALS in change.path and _quietens(change)
                else TERM_VOCALS_ISOLATED
            )
            _report_forbidden(state, change.words, term)
            kept.remove(change)
    return kept


def _quietens(change: Change) -> bool:
    return (change.path.endswith(".mute") and change.value is True) or (
        change.path.endswith(".gain_db") and change.value <= INAUDIBLE_DB
    )


def _affects_vocal_terms(change: Change, terms: set[str]) -> bool:
    on_vocals = change.path.startswith(f"stems.{VOCALS}.")
    if TERM_VOCALS_REMOVED in terms and on_vocals and _quietens(change):
        return True
    if TERM_VOCALS_ISOLATED in terms:
        if on_vocals and change.path.endswith(".solo") and change.value is True:
            return True
        if not on_vocals and (_quietens(change) or change.path.endswith(".solo")):
            return True
    return False


def _report_forbidden(state: RecipeState, words: str, term: str) -> None:
    message = f"The artist's terms do not allow {TERM_WORDS[term]}."
    if not any(u.words == words and u.message == message for u in state.unhonoured):
        state.refuse(words, FORBIDDEN, message)


def describe(
    text: str,
    *,
    track: Track,
    allowed: Mapping[str, bool],
    recipe: Mapping[str, Any] | None = None,
) -> Description:
    """Read ``text`` against the track and the current ``recipe``; see the module docstring.

    ``allowed`` is the track's consent terms (``{term: bool}``; a missing term counts as not
    allowed). ``recipe`` must be valid for the track (it is the studio's current state).
    The returned recipe is the current one with every honoured change applied, and always
    passes :func:`~remixing.engine.recipe.recipe_validate`.
    """
    base = recipe_to_dict(
        recipe_validate(
            recipe or {"version": RECIPE_VERSION},
            stems=list(track.stems),
            duration_s=track.duration_s,
        )
    )
    state = RecipeState(track=track, recipe=_deep_copy(base))
    sentence = _normalise(text[:MAX_TEXT_CHARS])
    intents, claimed = _claim(sentence, track)
    _run_intents(state, intents)
    _undo_locked(state, base)
    for phrase in _unknown_phrases(sentence, claimed):
        state.refuse(phrase, UNKNOWN, "Not something the studio understands.")
    # A change that sets a field to what it already is, is no change.
    changes = [c for c in _drop_forbidden(state, base, allowed) if _get(base, c.path) != c.value]
    changes, final = _valid_result(state, base, changes)
    return Description(
        changes=tuple(changes),
        # In the order the words were written.
        unhonoured=tuple(sorted(state.unhonoured, key=lambda u: sentence.find(u.words))),
        presets=tuple(dict.fromkeys(state.presets)),
        recipe=final,
    )


def _valid_result(
    state: RecipeState, base: dict[str, Any], changes: list[Change]
) -> tuple[list[Change], dict[str, Any]]:
    """Drop changes the recipe rules refuse together (a fade longer than the exported part,
    a low-pass below the high-pass), saying why, until the recipe is valid."""
    track = state.track
    while True:
        try:
            recipe = recipe_validate(
                _apply(base, changes), stems=list(track.stems), duration_s=track.duration_s
            )
        except RecipeError as error:
            paths = {path for path, _ in error.errors}
            culprits = [
                c
                for c in changes
                if c.path in paths or any(c.path.startswith(p + ".") for p in paths)
            ]
            if not culprits:
                raise
            for change in culprits:
                message = "; ".join(m for p, m in error.errors if change.path.startswith(p))
                state.refuse(change.words, UNAVAILABLE, f"{change.label}: {message}.")
                changes.remove(change)
            continue
        return changes, recipe_to_dict(recipe)


def _get(recipe: Mapping[str, Any], path: str) -> Any:
    node: Any = recipe
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node
