"""Render a recipe over a track's stems into tagged, loudness-normalised files.

Pipeline (see :mod:`.mixing` for why this order)::

    load stems -> region -> gain/mute/solo -> MIX -> tempo+key (one Rubber Band pass)
      -> effects -> fades -> -14 LUFS / -1 dBTP -> encode (mp3, ogg[, wav]) -> tag -> commit

Every output is staged next to its destination and only renamed into place once *all*
formats are encoded and tagged; any failure removes everything this render wrote.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mutagen import MutagenError

from . import mixing
from .analysis import as_2d
from .audio_io import AudioDecodeError, AudioIOError, StagedOutputs, encode_to, load_audio
from .mastering import CEILING_DBTP, TARGET_LUFS, normalise_loudness
from .recipe import Recipe, RecipeError, recipe_validate
from .tagging import RemixTags, TaggingError, riff_info, tag_file

SUPPORTED_FORMATS = ("mp3", "ogg", "wav", "flac")
DEFAULT_FORMATS = ("mp3", "ogg")
_EXTENSIONS = {"mp3": ".mp3", "ogg": ".ogg", "wav": ".wav", "flac": ".flac"}

StemSource = str | os.PathLike[str] | np.ndarray
ProgressFn = Callable[[float], None]


class RenderError(Exception):
    """A render failed; the message is safe to show to the remixer. No output was left."""


@dataclass(frozen=True)
class RenderResult:
    files: dict[str, Path]
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    timings_s: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class EncodeSettings:
    """Codec choices; defaults are the marketplace's published formats."""

    mp3_bitrate: str = "320k"
    mp3_vbr_quality: int | None = None  # e.g. 0 for LAME V0 instead of CBR
    ogg_codec: str = "vorbis"  # or "opus"
    ogg_quality: float = 6.0  # vorbis -q:a (6 ~ 192 kbps)
    ogg_bitrate: str = "160k"  # opus
    wav_subtype: str = "PCM_24"


def _report(progress: ProgressFn | None, value: float) -> None:
    if progress is not None:
        progress(min(1.0, max(0.0, value)))


def _load_stems(stems: Mapping[str, StemSource], samplerate: int) -> dict[str, np.ndarray]:
    """Decode/validate every stem before any output is produced."""
    if not stems:
        raise RenderError("no stems were provided")
    loaded: dict[str, np.ndarray] = {}
    for name, source in stems.items():
        if isinstance(source, np.ndarray):
            if source.ndim not in (1, 2) or source.size == 0:
                raise RenderError(f"stem {name!r} is not (channels, samples) audio")
            audio = as_2d(source)
            if audio.shape[0] > 8:
                raise RenderError(f"stem {name!r} has {audio.shape[0]} channels; expected 1-2")
            if not np.all(np.isfinite(audio)):
                raise RenderError(f"stem {name!r} contains invalid (NaN/inf) samples")
            loaded[name] = audio.astype(np.float32, copy=False)
        else:
            try:
                loaded[name], _ = load_audio(source, samplerate=samplerate)
            except AudioDecodeError as exc:
                raise RenderError(f"stem {name!r} could not be read: {exc}") from exc
    try:
        return mixing.align_stems(loaded)
    except mixing.MixError as exc:
        raise RenderError(str(exc)) from exc


def _as_recipe(recipe: Recipe | Mapping[str, Any], names: Sequence[str]) -> Recipe:
    if isinstance(recipe, Recipe):
        return recipe
    return recipe_validate(recipe, stems=list(names), duration_s=None)


def render_mix(
    stems: Mapping[str, StemSource],
    recipe: Recipe | Mapping[str, Any],
    *,
    samplerate: int,
    progress: ProgressFn | None = None,
    timings: dict[str, float] | None = None,
) -> np.ndarray:
    """Everything up to (not including) mastering: the remixed audio, float32 (C, N)."""
    clock = time.perf_counter()
    timings = timings if timings is not None else {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    audio = _load_stems(stems, samplerate)
    recipe_obj = _as_recipe(recipe, list(audio))
    lap("load")
    _report(progress, 0.10)
    try:
        settings = mixing.effective_stem_settings(recipe_obj, list(audio))
        gains = mixing.stem_gains(settings)
        if not any(g > 0 for g in gains.values()):
            raise RenderError("the recipe mutes every stem: there is nothing to render")
        audio = {
            n: mixing.cut_region(a, samplerate, recipe_obj.region)
            for n, a in audio.items()
            if gains[n] > 0  # silent stems are skipped entirely, not multiplied by 0
        }
        mix = mixing.mix_stems(audio, gains)
    except mixing.MixError as exc:
        raise RenderError(str(exc)) from exc
    del audio
    lap("mix")
    _report(progress, 0.20)
    mix = mixing.stretch_and_shift(mix, samplerate, recipe_obj.tempo_ratio, recipe_obj.key_shift)
    lap("stretch")
    _report(progress, 0.55)
    mix = mixing.apply_effects(mix, samplerate, recipe_obj.effects)
    mix = mixing.apply_fades(mix, samplerate, recipe_obj.fade_in_s, recipe_obj.fade_out_s)
    lap("effects")
    _report(progress, 0.65)
    return mix


def render_remix(
    stems: Mapping[str, StemSource],
    recipe: Recipe | Mapping[str, Any],
    *,
    samplerate: int,
    out_dir: str | os.PathLike[str],
    basename: str,
    formats: Sequence[str] = DEFAULT_FORMATS,
    tags: RemixTags | Mapping[str, Any],
    progress: ProgressFn | None = None,
    encode: EncodeSettings | None = None,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
) -> RenderResult:
    """Render ``recipe`` over ``stems`` into ``out_dir/basename.<fmt>`` for each format.

    ``stems`` maps stem name -> file path (decoded and resampled to ``samplerate``) or a
    float32 array already at ``samplerate``. ``recipe`` may be a validated
    :class:`~remixing.engine.recipe.Recipe` or a raw dict (validated here against the stem
    names; :class:`RecipeError` propagates). ``tags`` is a :class:`RemixTags` or a dict of
    its fields. ``progress`` receives fractions in [0, 1], ending with 1.0.

    Raises :class:`RenderError` (readable message) on unreadable stems, a recipe that does
    not fit the stems, or encoder failures; in every failure case no output file remains.
    """
    formats = tuple(dict.fromkeys(f.lower() for f in formats))
    unknown = [f for f in formats if f not in SUPPORTED_FORMATS]
    if unknown or not formats:
        raise RenderError(f"unsupported output format(s): {', '.join(unknown) or 'none'}")
    if not basename or os.sep in basename or basename.startswith("."):
        raise RenderError("basename must be a plain file name without a directory")
    try:
        remix_tags = tags if isinstance(tags, RemixTags) else RemixTags.from_mapping(tags)
    except TaggingError as exc:
        raise RenderError(str(exc)) from exc
    encode = encode or EncodeSettings()
    out_dir = Path(out_dir)
    timings: dict[str, float] = {}

    _report(progress, 0.0)
    try:
        mix = render_mix(stems, recipe, samplerate=samplerate, progress=progress, timings=timings)
        started = time.perf_counter()
        mastered = normalise_loudness(
            mix, samplerate, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp
        )
        timings["master"] = time.perf_counter() - started
    except (RenderError, RecipeError):
        raise
    except Exception as exc:  # DSP library errors become readable failures
        raise RenderError(f"rendering failed: {exc}") from exc
    _report(progress, 0.75)

    files: dict[str, Path] = {}
    try:
        with StagedOutputs() as staged:
            for index, fmt in enumerate(formats):
                started = time.perf_counter()
                dest = out_dir / f"{basename}{_EXTENSIONS[fmt]}"
                tmp = staged.stage(dest)
                encode_to(
                    tmp, mastered.audio, samplerate, fmt, **_codec_options(fmt, encode, remix_tags)
                )
                tag_file(tmp, fmt, remix_tags)
                files[fmt] = dest
                timings[f"encode_{fmt}"] = time.perf_counter() - started
                _report(progress, 0.75 + 0.25 * (index + 1) / len(formats) - 0.01)
            staged.commit()
    except (AudioIOError, TaggingError, MutagenError, OSError) as exc:
        raise RenderError(f"could not write the remix files: {exc}") from exc

    _report(progress, 1.0)
    return RenderResult(
        files=files,
        duration_s=mastered.audio.shape[-1] / float(samplerate),
        integrated_lufs=mastered.integrated_lufs,
        true_peak_dbtp=mastered.true_peak_dbtp,
        timings_s=timings,
    )


def _codec_options(fmt: str, encode: EncodeSettings, tags: RemixTags) -> dict[str, Any]:
    if fmt == "mp3":
        return {"bitrate": encode.mp3_bitrate, "vbr_quality": encode.mp3_vbr_quality}
    if fmt == "ogg":
        return {
            "codec": encode.ogg_codec,
            "quality": encode.ogg_quality,
            "bitrate": encode.ogg_bitrate,
        }
    if fmt == "wav":
        return {"subtype": encode.wav_subtype, "info": riff_info(tags)}
    return {}
