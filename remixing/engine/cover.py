"""Sing your own cover: a fan's recorded vocal take placed over the remix (no Django).

A cover in a recipe::

    {"version": 2, "take": "<32 hex digits>", "lead_s": 2.0, "latency_ms": 35.0,
     "gain_db": 0.0, "mute": false, "sung_tempo_ratio": 1.0}

``take`` names one of the fan's stored takes of this remix (the server checks it is theirs).
``lead_s`` is how long the take runs before the music started (the count-in); ``latency_ms``
is the round-trip latency the studio measured (a click played and recorded back through the
microphone): what the fan sang in time with music position ``t`` sits in the take at
``lead_s + t + latency``. The renderer puts take sample ``i`` at output sample
``i - round((lead_s + latency_ms / 1000) * samplerate)``: the take lands on the beat it was
sung to, however late the microphone path delivered it.

``sung_tempo_ratio`` is the recipe's tempo the fan sang over. The take lives on the output
timeline of that tempo; when the remix's tempo is changed afterwards (by hand or by a
preset), the take follows the track: it is time-stretched by ``tempo_ratio /
sung_tempo_ratio`` (pitch kept, the same Rubber Band stretch the stems get) from its
compensated start, so a note sung on a beat lands on that beat at the new tempo. Version 1
covers (before this field) were sung at the recipe's own tempo: validation upgrades them
to version 2 with ``sung_tempo_ratio`` set to it, and so does the studio. ``mute`` silences
the take in the export and the preview without forgetting which take it is.

The take is placed on the output timeline (after re-arranging, tempo and key: the fan sang
over what the studio played) and then goes through the same effects and fades as the stems.
A cover cannot be combined with a key shift or an export region (:func:`cover_conflicts`):
either would put the take somewhere other than where it was sung. Presets keep the cover.

:func:`latency_estimate` finds the latency from a reference click and its recording by
cross-correlation (the studio does the same in ``static/js/studio-cover.js``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

COVER_VERSION = 2
COVER_VERSIONS = (1, 2)
LEAD_S_MAX = 30.0
# The recipe's tempo range (recipe.TEMPO_MIN/MAX; a test holds them equal).
SUNG_TEMPO_MIN, SUNG_TEMPO_MAX = 0.5, 2.0
LATENCY_MS_MAX = 1000.0
GAIN_DB_MIN, GAIN_DB_MAX = -60.0, 12.0
TAKE_ID = re.compile(r"[0-9a-f]{32}")
_KEYS_V1 = {"version", "take", "lead_s", "latency_ms", "gain_db"}
_KEYS = {1: _KEYS_V1, 2: _KEYS_V1 | {"mute", "sung_tempo_ratio"}}
# What a cover cannot be combined with, in the words the studio shows (the same words are
# in static/js/studio-recipe.js, coverProblems; the recipe corpus test holds them equal).
# The studio previews a key shift by changing playback speed while the export keeps the
# tempo, so a take sung over a shifted preview would drift against the export.
COVER_KEY_SHIFT = (
    "A cover vocal is recorded against the original key: "
    "reset the key shift to record or keep a cover."
)
# The take is placed from output time 0, which with a region is the region's start, not
# where the fan sang it.
COVER_REGION = (
    "A cover vocal is placed from the start of the song: "
    "turn off the export region to record or keep a cover."
)


class CoverError(ValueError):
    """Invalid cover part; ``errors`` lists ``(field_path, message)``."""

    def __init__(self, errors: Sequence[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{p}: {m}" for p, m in self.errors))


@dataclass(frozen=True)
class Cover:
    take: str
    lead_s: float = 0.0
    latency_ms: float = 0.0
    gain_db: float = 0.0
    mute: bool = False
    sung_tempo_ratio: float = 1.0
    version: int = COVER_VERSION

    @property
    def offset_s(self) -> float:
        """Seconds of the take before the first sample that belongs at output time 0."""
        return self.lead_s + self.latency_ms / 1000.0

    def stretch_ratio(self, tempo_ratio: float) -> float:
        """How much faster the take plays at the recipe's ``tempo_ratio`` than it was sung."""
        return tempo_ratio / self.sung_tempo_ratio

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "take": self.take,
            "lead_s": self.lead_s,
            "latency_ms": self.latency_ms,
            "gain_db": self.gain_db,
            "mute": self.mute,
            "sung_tempo_ratio": self.sung_tempo_ratio,
        }


def _number(
    obj: Mapping[str, Any],
    key: str,
    lo: float,
    hi: float,
    errors: list[tuple[str, str]],
    prefix: str,
) -> float:
    value = obj.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append((f"{prefix}.{key}", "must be a number"))
        return 0.0
    if not lo <= value <= hi:
        errors.append((f"{prefix}.{key}", f"must be between {lo:g} and {hi:g}"))
        return 0.0
    return float(value)


def cover_validate(data: Any, *, tempo_ratio: float = 1.0, prefix: str = "cover") -> Cover:
    """Check a cover dict; raises :class:`CoverError` naming every bad field.

    ``tempo_ratio`` is the recipe's tempo: the one a cover without ``sung_tempo_ratio``
    (version 1, or left out) was sung at. The result is always the current version."""
    if not isinstance(data, Mapping):
        raise CoverError([(prefix, "must be an object")])
    errors: list[tuple[str, str]] = []
    version = data.get("version")
    if isinstance(version, bool) or version not in COVER_VERSIONS:
        errors.append((f"{prefix}.version", f"unsupported cover version; expected {COVER_VERSION}"))
        version = COVER_VERSION
    known = _KEYS[version]
    errors.extend((f"{prefix}.{key}", "unknown field") for key in data if key not in known)
    take = data.get("take")
    if not isinstance(take, str) or not TAKE_ID.fullmatch(take):
        errors.append((f"{prefix}.take", "must name one of your recorded takes"))
    lead = _number(data, "lead_s", 0.0, LEAD_S_MAX, errors, prefix)
    latency = _number(data, "latency_ms", 0.0, LATENCY_MS_MAX, errors, prefix)
    gain = _number(data, "gain_db", GAIN_DB_MIN, GAIN_DB_MAX, errors, prefix)
    mute = data.get("mute", False)
    if not isinstance(mute, bool):
        errors.append((f"{prefix}.mute", "must be true or false"))
    sung = tempo_ratio
    if data.get("sung_tempo_ratio") is not None:
        sung = _number(data, "sung_tempo_ratio", SUNG_TEMPO_MIN, SUNG_TEMPO_MAX, errors, prefix)
    if errors:
        raise CoverError(errors)
    return Cover(
        take=str(take),
        lead_s=lead,
        latency_ms=latency,
        gain_db=gain,
        mute=bool(mute),
        sung_tempo_ratio=sung,
    )


def cover_conflicts(*, key_shift: int, has_region: bool) -> list[tuple[str, str]]:
    """``(field_path, message)`` for each recipe setting a cover cannot be combined with."""
    problems = []
    if key_shift != 0:
        problems.append(("key_shift", COVER_KEY_SHIFT))
    if has_region:
        problems.append(("region", COVER_REGION))
    return problems


def cover_body(take: np.ndarray, samplerate: int, cover: Cover, *, channels: int) -> np.ndarray:
    """The take from its compensated start (what belongs at output time 0), as it was
    sung: (1 or ``channels``, N) float32, count-in and latency cut off."""
    take = np.asarray(take, dtype=np.float32)
    if take.ndim == 1:
        take = take[np.newaxis, :]
    if take.shape[0] not in (1, channels):
        take = take.mean(axis=0, keepdims=True)
    skip = round(cover.offset_s * samplerate)
    return take[:, skip:]


def cover_mix_in(mix: np.ndarray, body: np.ndarray, cover: Cover) -> np.ndarray:
    """``mix`` (C, N) with ``body`` added from output time 0 at the cover's gain (nothing
    when muted). The output keeps the mix's length; a mono body goes to every channel."""
    out = mix.astype(np.float32, copy=True)
    length = min(body.shape[1], mix.shape[1])
    if length <= 0 or cover.mute:
        return out
    gain = float(10.0 ** (cover.gain_db / 20.0))
    out[:, :length] += gain * body[:, :length]
    return out


def cover_place(mix: np.ndarray, take: np.ndarray, samplerate: int, cover: Cover) -> np.ndarray:
    """``mix`` (C, N) with the take added at the compensated offset and its gain, at the
    tempo it was sung (the renderer stretches the body between the two steps)."""
    body = cover_body(take, samplerate, cover, channels=mix.shape[0])
    return cover_mix_in(mix, body, cover)


def latency_estimate(
    reference: np.ndarray,
    recorded: np.ndarray,
    *,
    samplerate: int,
    scheduled_s: float,
    max_latency_s: float = 1.0,
) -> float | None:
    """Seconds by which ``reference`` (a click played at ``scheduled_s`` on the recording's
    clock) shows up late in ``recorded``; None when it cannot be found (no clear peak).

    Cross-correlation (FFT) of the recording with the click; the best lag in
    ``[scheduled_s, scheduled_s + max_latency_s]`` wins if it stands out from the rest.
    """
    ref = np.asarray(reference, dtype=np.float64).ravel()
    rec = np.asarray(recorded, dtype=np.float64)
    if rec.ndim > 1:
        rec = rec.mean(axis=0)
    if ref.size == 0 or rec.size < ref.size:
        return None
    size = 1 << math.ceil(math.log2(rec.size + ref.size))
    corr = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(ref, size)), size)
    corr = corr[: rec.size - ref.size + 1]
    start = max(0, round(scheduled_s * samplerate))
    stop = min(corr.size, start + round(max_latency_s * samplerate) + 1)
    if stop <= start:
        return None
    window = np.abs(corr[start:stop])
    peak = int(np.argmax(window))
    found = rec[start + peak : start + peak + ref.size]
    energy = float(np.sqrt(np.sum(ref**2) * np.sum(found**2)))
    if energy <= 0 or window[peak] / energy < 0.3:
        return None
    return peak / samplerate
