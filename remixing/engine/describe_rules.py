"""Describe your remix, the rules (first part): what is refused, what the studio cannot
do, negations and locks, stems and tempo. Each rule is (pattern, handler); the
parser tries them in order (see :mod:`remixing.engine.describe`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .describe_changes import (
    REFUSED,
    UNAVAILABLE,
    RecipeState,
    Track,
    clear_effects,
    degree_of,
    num,
    scale_tempo,
    set_effect,
    set_fade,
    set_key,
    set_tempo,
    shift_key,
    stem_gain,
    stem_mute,
    stem_name,
    stem_solo,
)
from .describe_vocabulary import (
    BIG,
    DEGREE,
    NUM,
    PRESET_WORD,
    PRESET_WORDS,
    SMALL,
    STEM,
    STEM_WORDS,
    stem_for,
)

# ---------------------------------------------------------------------------------------
# Rules: (pattern, handler). Tried in order; a phrase belongs to the first rule that
# matches it. Handlers return the action to run (or None when the phrase is only noted).
# ---------------------------------------------------------------------------------------

Handler = Callable[[re.Match[str], Track], Callable[[RecipeState], None] | None]
Rules = list[tuple[re.Pattern[str], Handler]]


def rule_adder(rules: Rules) -> Callable[[str], Callable[[Handler], Handler]]:
    """A decorator for a rules module: ``@rule(pattern)`` adds (pattern, handler) to
    ``rules``, in the order the module defines them."""

    def rule(pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            rules.append((re.compile(pattern), handler))
            return handler

        return register

    return rule


RULES: Rules = []
rule = rule_adder(RULES)


def _refusal(reason: str, message: str) -> Handler:
    def handler(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
        return lambda state: state.refuse(match.group(0), reason, message)

    return handler


_PHRASE_END = r"(?=$|[,;.!?]|\s+and\b|\s+but\b|\s+with\b)"

# --- things Clearmix never does ---------------------------------------------------------
rule(
    r"\b(?:no|without|remove|drop|hide|strip|delete|skip)\s+(?:the\s+|any\s+)?"
    r"(?:credits?|artists?'?s?\s+names?|songwriters?|tags|metadata|watermarks?|attribution)\b"
    r"|\buncredited\b|\bwhite[- ]label(?:ed)?\b|\bclaim\s+(?:it\s+)?as\s+(?:mine|my\s+own)\b"
)(
    _refusal(
        REFUSED,
        "Every remix names the original recording, its artists and its songwriters; "
        "credits cannot be removed.",
    )
)
rule(
    r"\b(?:sounds?|sing|sung|sang)\s+like\s+[^\W\d_][\w .'-]*?" + _PHRASE_END + "|"
    r"\bin\s+the\s+(?:voice|style)\s+of\s+[^\W\d_][\w .'-]*?" + _PHRASE_END + "|"
    r"\b(?:voice\s+clon\w*|clon\w*\s+(?:the\s+|my\s+|a\s+)?voice|deep\s?fakes?|ai\s+(?:voice|vocals?|singer))\b"
    r"|\b(?:swap|replace|change)\s+(?:the\s+)?(?:singer|voice|vocalist)\b"
)(
    _refusal(
        REFUSED,
        "Clearmix does not imitate or clone voices or other artists; a remix reshapes this "
        "track's own recording.",
    )
)
rule(
    r"\b(?:mash[- ]?up|mash(?:ed)?\s+(?:it\s+)?up(?:\s+with\s+[^,;.!?]*)?|"
    r"mix(?:ed)?\s+(?:it\s+)?with\s+(?:another|a\s+different|other)\s+"
    r"(?:song|track)s?|samples?\s+(?:from|of)\s+[a-z][a-z .'-]*)\b"
)(
    _refusal(
        REFUSED,
        "A remix uses this track's own stems; bringing in another recording needs that "
        "recording's own licence.",
    )
)
rule(
    r"\b(?:change|rewrite|replace|new|different|censor(?:ed)?)\s+(?:the\s+)?(?:lyrics|words)\b"
    r"|\bclean\s+version\b|\bexplicit\b"
)(_refusal(REFUSED, "The lyrics are part of the recording; a remix cannot change or censor them."))
rule(
    r"\b(?:for\s+free|royalty[- ]free|no\s+royalties|without\s+paying|copyright[- ]free"
    r"|remove\s+(?:the\s+)?copyright|sell\s+it|commercial\s+use)\b"
)(
    _refusal(
        REFUSED,
        "Licensing is not part of a remix: every export is paid for, and pays the artists and "
        "songwriters.",
    )
)
rule(
    r"\badd(?:ing)?\s+(?:a\s+|an\s+|some\s+|my\s+|new\s+|extra\s+|more\s+)?"
    r"(?:rap(?:\s+verse)?|verse|guitar\s+solo|strings|saxophone|sax|choir|samples?|"
    r"trumpets?|horns?|violins?|808s?|vocals?|singing|my\s+voice|a\s+feature|features?|"
    r"instruments?|harmon(?:y|ies))\b"
)(
    _refusal(
        REFUSED,
        "A remix only uses this track's own stems; it cannot add new parts or voices.",
    )
)

# --- things the studio cannot do (yet) ---------------------------------------------------
rule(
    r"\b(?:auto-?tuned?|pitch\s+correct\w*|distort(?:ed|ion)?|bit-?crush\w*|vinyl\s+crackle|"
    r"crackle|flanger|phaser|chorus\s+effect|vocoder|tape\s+(?:stop|saturation)|stutter)\b"
)(
    _refusal(
        UNAVAILABLE,
        "The studio has high-pass, low-pass, compressor, echo and reverb; not that effect.",
    )
)
rule(r"\b(?:reversed?|backwards?|played\s+backwards)\b")(
    _refusal(UNAVAILABLE, "The studio cannot play the track backwards.")
)
rule(
    r"(?:\b(?:skip|cut|drop|remove|repeat|double|extend|loop|lose|no|only|just|without)\s+"
    r"(?:the\s+)?)?\b(?:intros?|outros?|verses?|chorus(?:es)?|bridges?|hooks?|breakdowns?|"
    r"the\s+drop|second\s+half|first\s+half)\b(?:\s+twice)?"
    r"|\b(?:longer|extended|extend\s+it|radio\s+edit|re-?arrange\w*)\b"
)(
    _refusal(
        UNAVAILABLE,
        "Cutting, repeating or reordering sections cannot be asked for in words yet; pick a "
        "part to export instead (for example 'the first 30 seconds').",
    )
)


# --- negations and locks ----------------------------------------------------------------
@rule(
    r"\b(?:keep(?:ing)?|same|don'?t\s+change|do\s+not\s+change|no\s+change\s+(?:to|in)|"
    r"without\s+changing|leave|not\s+changing)\s+(?:the\s+|its\s+|my\s+)?(?:original\s+)?"
    r"(?P<what>tempo|speed|bpm|key|pitch)\b(?:\s+(?:the\s+same|as\s+it\s+is|alone|unchanged))?"
    r"|\bno\s+(?P<what2>tempo|speed|key|pitch)\s+changes?\b"
    r"|\b(?P<what3>tempo|speed|key|pitch)\s+(?:unchanged|stays?\s+the\s+same)\b"
)
def _lock_tempo_or_key(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    what = match.group("what") or match.group("what2") or match.group("what3")
    path = "key_shift" if what in ("key", "pitch") else "tempo_ratio"

    def act(state: RecipeState) -> None:
        state.locks[path] = match.group(0)

    return act


@rule(
    r"\b(?:keep|leave|don'?t\s+(?:mute|remove|cut|drop|lose)|do\s+not\s+(?:mute|remove|cut|drop|lose))"
    r"\s+(?:the\s+|my\s+)?" + STEM + r"\b(?:\s+(?:in|on|still\s+in))?"
    r"|\bwith\s+(?:the\s+)?" + STEM.replace("?P<stem>", "?P<stem_b>") + r"\s+(?:still\s+)?in\b"
)
def _keep_stem(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    def keep(state: RecipeState, stem: str, words: str) -> None:
        stem_mute(state, stem, False, words)
        state.locks[f"stems.{stem}"] = words

    return _stem_action(match, keep)


@rule(r"\b(?:no|without|zero)\s+(?:any\s+)?(?:effects|fx)\b|\bdry\b|\bno\s+processing\b")
def _no_effects(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    names = ("highpass_hz", "lowpass_hz", "compressor", "delay", "reverb")
    return lambda state: clear_effects(state, names, match.group(0))


@rule(
    r"\b(?:no|without|remove\s+the|turn\s+off\s+the|less)\s+(?P<fx>reverb|echo(?:es)?|delay|"
    r"compression|compressor|filters?|low-?pass|high-?pass)\b"
)
def _no_effect(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    fx = match.group("fx")
    names = {
        "reverb": ("reverb",),
        "echo": ("delay",),
        "echoes": ("delay",),
        "delay": ("delay",),
        "compression": ("compressor",),
        "compressor": ("compressor",),
        "filter": ("highpass_hz", "lowpass_hz"),
        "filters": ("highpass_hz", "lowpass_hz"),
    }.get(fx) or (("lowpass_hz",) if fx.startswith("low") else ("highpass_hz",))
    return lambda state: clear_effects(state, names, match.group(0))


@rule(r"\b(?:no|without)\s+(?:any\s+)?fad(?:es?|ing)(?:\s+(?P<which>in|out))?\b")
def _no_fades(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    which = [match.group("which")] if match.group("which") else ["in", "out"]

    def act(state: RecipeState) -> None:
        for side in which:
            set_fade(state, side, 0.0, match.group(0))
            state.locks[f"fade_{side}_s"] = match.group(0)

    return act


@rule(r"\bnot\s+(?:too\s+|that\s+|much\s+|any\s+)?(?P<dir>slow|slower|fast|faster|quick|quicker)\b")
def _tempo_limit(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    slow = match.group("dir").startswith("slow")

    def act(state: RecipeState) -> None:
        # "not too slow": any slowdown stays gentle (at most 6%); likewise for speed-ups.
        if slow:
            state.tempo_floor = 0.94
        else:
            state.tempo_ceiling = 1.06
        current = state.get("tempo_ratio")
        if "tempo_ratio" in state.changes and current is not None:
            set_tempo(state, current, state.changes["tempo_ratio"].words)

    act.early = True  # type: ignore[attr-defined]
    return act


@rule(r"\b(?:not|no|isn'?t|without)\s+(?:a\s+|an\s+|too\s+|very\s+|that\s+)?" + PRESET_WORD + r"\b")
def _not_preset(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    slug = PRESET_WORDS[re.sub(r"\s+", " ", match.group("preset"))][0]

    def act(state: RecipeState) -> None:
        state.excluded_presets.add(slug)

    act.early = True  # type: ignore[attr-defined]
    return act


# --- stems ------------------------------------------------------------------------------
@rule(
    r"\b(?:no|without|minus|mute|muted|remove|drop|cut|kill|lose|strip|take\s+out|get\s+rid\s+of|"
    r"turn\s+off)\s+(?:the\s+|any\s+|all\s+(?:the\s+)?)?" + STEM + r"\b"
)
def _mute_stem(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    return _stem_action(match, lambda state, stem, words: stem_mute(state, stem, True, words))


rule(r"\b" + STEM + r"\s+(?:off|muted|out|removed|gone)\b")(_mute_stem)


@rule(
    r"\b(?:only|just|solo|isolate|isolated|nothing\s+but)\s+(?:the\s+)?" + STEM + r"\b"
    r"|\b" + STEM.replace("?P<stem>", "?P<stem_b>") + r"\s+only\b"
)
def _solo_stem(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    def solo(state: RecipeState, stem: str, words: str) -> None:
        together = [stem_for(w, state.track.stems) or "" for w in _stem_words(match)]
        stem_solo(state, stem, words, together)

    return _stem_action(match, solo)


TRAIL = rf"(?:\s+(?:(?P<small_t>{SMALL})|(?P<big_t>{BIG})))?"
_DB = r"(?:\s+by\s+(?P<db>\d+(?:\.\d+)?)\s*(?:db|decibels?))?"


@rule(
    r"\b(?:"
    + DEGREE
    + r"\s+)?(?P<dir>more|louder|boost(?:ed)?|turn\s+up|bring\s+up|push(?:\s+up)?|"
    r"heavier|bigger|punchy|punchier|fatter|stronger|emphasi[sz]e|less|quieter|softer|turn\s+down|"
    r"bring\s+down|lower|reduce|tuck|lighter|pull\s+back|fewer)\s+(?:the\s+)?" + STEM + r"\b" + _DB
)
def _gain_before(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    return _gain_action(match)


@rule(
    r"\b(?:turn|bring|push|pull)\s+(?:the\s+)?"
    + STEM
    + r"\s+(?:"
    + DEGREE
    + r"\s+)?(?P<dir>up|down|back)\b"
    + TRAIL
    + _DB
    + r"|\b(?:the\s+)?"
    + STEM.replace("?P<stem>", "?P<stem_b>")
    + r"\s+(?:"
    + DEGREE.replace("?P<small>", "?P<small_b>").replace("?P<big>", "?P<big_b>")
    + r"\s+)?(?P<dir_b>up|down|louder|quieter|softer|lower|higher|back|forward|boosted|heavier|"
    r"lighter)\b" + _DB.replace("?P<db>", "?P<db_b>")
)
def _gain_after(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    return _gain_action(match)


@rule(r"\b" + STEM + r"\s+(?:at\s+|to\s+)?(?P<sdb>[+-]?\d+(?:\.\d+)?)\s*(?:db|decibels?)\b")
def _gain_absolute(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    db = float(match.group("sdb"))
    return _stem_action(
        match, lambda state, stem, words: stem_gain(state, stem, db, words, relative=False)
    )


rule(
    r"\b(?:louder|quieter|turn\s+it\s+(?:up|down)|more\s+volume|less\s+volume|max(?:imum)?\s+volume"
    r"|volume\s+(?:up|down))\b(?!\s+(?:the\s+)?" + STEM_WORDS + ")"
)(
    _refusal(
        UNAVAILABLE,
        "The export's overall loudness is set by mastering (every remix is levelled the same); "
        "turn single stems up or down instead.",
    )
)


def _stem_words(match: re.Match[str]) -> list[str]:
    listed = match.groupdict().get("stem") or match.groupdict().get("stem_b") or ""
    return re.findall(STEM_WORDS + r"(?![a-z])", listed)


def _stem_action(
    match: re.Match[str], do: Callable[[RecipeState, str, str], None]
) -> Callable[[RecipeState], None]:
    words = match.group(0)

    def act(state: RecipeState) -> None:
        for word in _stem_words(match):
            stem = stem_name(state, word, words)
            if stem is not None:
                do(state, stem, words)

    return act


_LOUDER_WORDS = {
    "more", "louder", "boost", "boosted", "turn up", "bring up", "push", "push up", "heavier",
    "bigger", "punchy", "punchier", "fatter", "stronger", "emphasise", "emphasize", "up", "higher",
    "forward",
}  # fmt: skip
_STEP_DB = {"small": (2.0, -3.0), "normal": (4.0, -6.0), "big": (8.0, -12.0)}


def _gain_action(match: re.Match[str]) -> Callable[[RecipeState], None]:
    g = match.groupdict()
    direction = re.sub(r"\s+", " ", g.get("dir") or g.get("dir_b") or "")
    louder = direction in _LOUDER_WORDS
    degree = (
        "small"
        if (g.get("small") or g.get("small_b") or g.get("small_t"))
        else "big"
        if (g.get("big") or g.get("big_b") or g.get("big_t"))
        else "normal"
    )
    explicit = g.get("db") or g.get("db_b")
    up, down = _STEP_DB[degree]
    step = float(explicit) if explicit else (up if louder else -down)
    db = step if louder else -abs(step)
    return _stem_action(
        match, lambda state, stem, words: stem_gain(state, stem, db, words, relative=True)
    )


# --- tempo ------------------------------------------------------------------------------
@rule(r"\bslowed\s+(?:\+|and|&|n)\s+reverb(?:ed|b)?\b")
def _slowed_reverb(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    def act(state: RecipeState) -> None:
        scale_tempo(state, 0.85, match.group(0))
        set_effect(state, "reverb", {"room_size": 0.7, "wet": 0.3}, match.group(0))

    return act


@rule(r"\bnightcore\b")
def _nightcore(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    def act(state: RecipeState) -> None:
        scale_tempo(state, 1.25, match.group(0))
        shift_key(state, 3, match.group(0))

    return act


@rule(
    r"(?<![a-z])(?P<n>"
    + NUM
    + r")\s*(?:%|percent|per\s*cent)\s+(?P<dir>faster|quicker|slower|up|down|more\s+slowly)\b"
    r"|\b(?P<dir2>speed(?:\s+it)?\s+up|faster|quicker|slow(?:\s+it)?\s+down|slower)\s+by\s+(?P<n2>"
    + NUM
    + r")\s*(?:%|percent|per\s*cent)"
)
def _tempo_percent(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    pct = num(match.group("n") or match.group("n2")) or 0.0
    direction = match.group("dir") or match.group("dir2") or ""
    faster = any(w in direction for w in ("fast", "quick", "up"))
    factor = 1 + pct / 100 if faster else 1 - pct / 100
    return lambda state: scale_tempo(state, factor, match.group(0))


@rule(r"\b(?:at\s+|to\s+)?(?P<bpm>\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats\s+per\s+minute)\b")
def _tempo_bpm(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    target = float(match.group("bpm"))

    def act(state: RecipeState) -> None:
        if not state.track.tempo_bpm:
            state.refuse(
                match.group(0),
                UNAVAILABLE,
                "This track's tempo is not known, so a BPM cannot be set; try '10% faster'.",
            )
            return
        set_tempo(state, target / state.track.tempo_bpm, match.group(0))

    return act


@rule(
    r"\b(?:at\s+)?(?P<x>\d+(?:\.\d+)?)\s*(?:x|times)\s*(?:the\s+)?(?:speed|tempo)?(?=\s|$|[,.;!?])"
    r"|\b(?P<half>half)[- ](?:speed|time|tempo)\b|\b(?P<double>double)[- ](?:speed|time|tempo)\b"
    r"|\btwice\s+as\s+(?P<twice>fast|quick)\b"
)
def _tempo_factor(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    if match.group("half"):
        ratio = 0.5
    elif match.group("double") or match.group("twice"):
        ratio = 2.0
    else:
        ratio = float(match.group("x"))
    return lambda state: set_tempo(state, ratio, match.group(0))


@rule(
    r"\b(?:back\s+to\s+)?(?:the\s+)?(?:original|normal|regular|usual)\s+(?P<what>tempo|speed|key|pitch)\b"
)
def _original_tempo_or_key(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    if match.group("what") in ("key", "pitch"):
        return lambda state: set_key(state, 0, match.group(0))
    return lambda state: set_tempo(state, 1.0, match.group(0))


_TEMPO_STEP = {"small": 0.05, "normal": 0.1, "big": 0.2}


@rule(
    r"\b(?:" + DEGREE + r"\s+)?(?P<dir>slower|faster|quicker|slowed(?:\s+down)?|sped\s+up|"
    r"speed(?:\s+it)?\s+up|slow(?:\s+it)?\s+down|more\s+slowly|up-?tempo|down-?tempo|slow|fast|"
    r"speedier)\b"
)
def _tempo_words(match: re.Match[str], track: Track) -> Callable[[RecipeState], None]:
    direction = match.group("dir")
    slower = direction.startswith("slow") or direction.startswith("down")
    step = _TEMPO_STEP[degree_of(match)]
    factor = 1 - step if slower else 1 + step
    return lambda state: scale_tempo(state, factor, match.group(0))
