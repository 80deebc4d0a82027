"""Re-arranging a track: an arrangement (an ordered list of time ranges of the original,
on the bars that :mod:`.structure` found) validated and rendered sample-accurately.

An arrangement in a recipe::

    {"version": 1, "crossfade_ms": 20,
     "sections": [{"start_s": 0.0, "end_s": 8.0}, {"start_s": 16.0, "end_s": 24.0}, ...]}

Rendering concatenates the ranges; the first sample of each range lands exactly at the
sum of the lengths before it (``round(s * samplerate)`` per boundary), and each join is
an equal-power crossfade of ``crossfade_ms``: the new range fades in from its first
sample while the previous range's continuation (the audio just after its end) fades out.
The output is exactly as long as the ranges added up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ARRANGEMENT_VERSION = 1
MAX_SECTIONS = 64
CROSSFADE_MS_MIN, CROSSFADE_MS_MAX, CROSSFADE_MS_DEFAULT = 0.0, 200.0, 20.0
MIN_SECTION_S = 0.25
# Boundaries need not sit on a detected bar to within more than this (analysis rounding).
BAR_TOLERANCE_S = 0.002


class ArrangementError(ValueError):
    """Invalid arrangement; ``errors`` lists ``(field_path, message)``."""

    def __init__(self, errors: Sequence[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{p}: {m}" for p, m in self.errors))


@dataclass(frozen=True)
class Section:
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Arrangement:
    sections: tuple[Section, ...]
    crossfade_ms: float = CROSSFADE_MS_DEFAULT
    version: int = ARRANGEMENT_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "crossfade_ms": self.crossfade_ms,
            "sections": [{"start_s": s.start_s, "end_s": s.end_s} for s in self.sections],
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _on_a_bar(value: float, bars: Sequence[float], duration_s: float | None) -> bool:
    edges = [0.0, *bars] + ([duration_s] if duration_s is not None else [])
    return any(abs(value - edge) <= BAR_TOLERANCE_S for edge in edges)


def arrangement_validate(
    data: Any,
    *,
    duration_s: float | None,
    bars: Sequence[float] | None = None,
    prefix: str = "arrangement",
) -> Arrangement:
    """Check an arrangement dict; with ``bars``, every boundary must be on a bar (or the
    track's start or end). Raises :class:`ArrangementError` naming every bad field."""
    errors: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise ArrangementError([(prefix, "must be an object")])
    for key in data:
        if key not in ("version", "crossfade_ms", "sections"):
            errors.append((f"{prefix}.{key}", "unknown field"))
    if data.get("version") != ARRANGEMENT_VERSION or isinstance(data.get("version"), bool):
        errors.append((f"{prefix}.version", f"unsupported; expected {ARRANGEMENT_VERSION}"))
    crossfade = _number(data.get("crossfade_ms", CROSSFADE_MS_DEFAULT))
    if crossfade is None or not CROSSFADE_MS_MIN <= crossfade <= CROSSFADE_MS_MAX:
        errors.append(
            (
                f"{prefix}.crossfade_ms",
                f"must be between {CROSSFADE_MS_MIN:g} and {CROSSFADE_MS_MAX:g}",
            )
        )
    raw = data.get("sections")
    sections: list[Section] = []
    if not isinstance(raw, list) or not raw:
        errors.append((f"{prefix}.sections", "must be a non-empty list"))
        raw = []
    elif len(raw) > MAX_SECTIONS:
        errors.append((f"{prefix}.sections", f"at most {MAX_SECTIONS} sections"))
        raw = []
    for index, item in enumerate(raw):
        path = f"{prefix}.sections.{index}"
        if not isinstance(item, Mapping) or set(item) != {"start_s", "end_s"}:
            errors.append((path, "must be an object with start_s and end_s"))
            continue
        start, end = _number(item["start_s"]), _number(item["end_s"])
        if start is None or end is None or start < 0:
            errors.append((path, "start_s and end_s must be numbers, start_s at least 0"))
            continue
        if end - start < MIN_SECTION_S:
            errors.append((path, f"must last at least {MIN_SECTION_S:g} s"))
            continue
        if duration_s is not None and end > duration_s + BAR_TOLERANCE_S:
            errors.append((f"{path}.end_s", f"must not pass the track's end ({duration_s:.3f} s)"))
            continue
        if bars is not None and not (
            _on_a_bar(start, bars, duration_s) and _on_a_bar(end, bars, duration_s)
        ):
            errors.append((path, "must start and end on a bar"))
            continue
        sections.append(Section(start, min(end, duration_s) if duration_s else end))
    if errors:
        raise ArrangementError(errors)
    return Arrangement(tuple(sections), crossfade or 0.0)


def _equal_power(n: int) -> tuple[np.ndarray, np.ndarray]:
    # Half-sample offsets: neither curve is exactly 0 or 1 inside the crossfade.
    t = (np.arange(n, dtype=np.float64) + 0.5) / n
    return np.sin(0.5 * np.pi * t).astype(np.float32), np.cos(0.5 * np.pi * t).astype(np.float32)


def boundaries(arrangement: Arrangement, samplerate: int) -> list[tuple[int, int]]:
    """``(start, end)`` sample indices in the original of each section."""
    return [
        (round(s.start_s * samplerate), round(s.end_s * samplerate)) for s in arrangement.sections
    ]


def render_arrangement(audio: np.ndarray, samplerate: int, arrangement: Arrangement) -> np.ndarray:
    """The sections of ``audio`` (channels x samples) in the arrangement's order."""
    audio = np.asarray(audio, dtype=np.float32)
    total = audio.shape[-1]
    spans = [(start, min(end, total)) for start, end in boundaries(arrangement, samplerate)]
    out = np.concatenate([audio[..., start:end] for start, end in spans], axis=-1)
    fade = round(arrangement.crossfade_ms / 1000 * samplerate)
    if fade <= 0:
        return out
    fade_in, fade_out = _equal_power(fade)
    position = 0
    for index in range(1, len(spans)):
        previous_start, previous_end = spans[index - 1]
        position += previous_end - previous_start
        start, end = spans[index]
        n = min(fade, end - start)
        if previous_end == start:
            continue  # contiguous: the audio already flows on, nothing to smooth
        tail = audio[..., previous_end : previous_end + n]
        if tail.shape[-1] < n:  # the previous range ends at the track's end: fade to silence
            tail = np.concatenate(
                [tail, np.zeros((*tail.shape[:-1], n - tail.shape[-1]), dtype=np.float32)], axis=-1
            )
        out[..., position : position + n] = (
            out[..., position : position + n] * fade_in[:n] + tail * fade_out[:n]
        )
    return out
