"""Render a recipe over a track's stems into tagged, loudness-normalised files.

Pipeline (see :mod:`.mixing` for why this order)::

    load stems -> region -> gain/mute/solo -> MIX -> arrangement -> tempo+key (one Rubber Band pass)
      -> + cover take (at its latency-compensated offset, stretched to the new tempo)
      -> effects -> fades
      -> -14 LUFS / -1 dBTP -> encode (mp3, ogg[, wav]) -> tag -> commit

Every output is staged next to its destination and only renamed into place once *all*
formats are encoded and tagged; any failure removes everything this render wrote.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mutagen import MutagenError

from . import mixing
from .analysis import as_2d
from .arrangement import render_arrangement
from .audio_io import AudioDecodeError, AudioIOError, StagedOutputs, encode_to, load_audio
from .cover import cover_body, cover_mix_in
from .mastering import CEILING_DBTP, TARGET_LUFS, MasterResult, normalise_loudness
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


def _with_cover(
    mix: np.ndarray, recipe: Recipe, takes: Mapping[str, StemSource] | None, samplerate: int
) -> np.ndarray:
    """The fan's vocal take over the mix, on the output timeline (see :mod:`.cover`).

    Cut at its compensated start, then stretched by the change of tempo since it was
    sung (pitch kept, as the stems): what was sung on a beat stays on that beat."""
    cover = recipe.cover
    if cover is None:
        return mix
    source = (takes or {}).get(cover.take)
    if source is None:
        raise RenderError("the cover take this remix uses is no longer available")
    if cover.mute:
        return mix
    take = _load_stems({"cover": source}, samplerate)["cover"]
    body = cover_body(take, samplerate, cover, channels=mix.shape[0])
    body = mixing.stretch_and_shift(body, samplerate, cover.stretch_ratio(recipe.tempo_ratio), 0)
    return cover_mix_in(mix, body, cover)


def render_mix(
    stems: Mapping[str, StemSource],
    recipe: Recipe | Mapping[str, Any],
    *,
    samplerate: int,
    progress: ProgressFn | None = None,
    timings: dict[str, float] | None = None,
    takes: Mapping[str, StemSource] | None = None,
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
        if recipe_obj.arrangement is not None:
            mix = render_arrangement(mix, samplerate, recipe_obj.arrangement)
    except mixing.MixError as exc:
        raise RenderError(str(exc)) from exc
    del audio
    lap("mix")
    _report(progress, 0.20)
    mix = mixing.stretch_and_shift(mix, samplerate, recipe_obj.tempo_ratio, recipe_obj.key_shift)
    mix = _with_cover(mix, recipe_obj, takes, samplerate)
    lap("stretch")
    _report(progress, 0.55)
    mix = mixing.apply_effects(mix, samplerate, recipe_obj.effects)
    mix = mixing.apply_fades(mix, samplerate, recipe_obj.fade_in_s, recipe_obj.fade_out_s)
    lap("effects")
    _report(progress, 0.65)
    return mix


def _checked_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The requested formats, lower-cased and without repeats; unknown ones refused."""
    formats = tuple(dict.fromkeys(f.lower() for f in formats))
    unknown = [f for f in formats if f not in SUPPORTED_FORMATS]
    if unknown or not formats:
        raise RenderError(f"unsupported output format(s): {', '.join(unknown) or 'none'}")
    return formats


def _checked_tags(tags: RemixTags | Mapping[str, Any]) -> RemixTags:
    try:
        return tags if isinstance(tags, RemixTags) else RemixTags.from_mapping(tags)
    except TaggingError as exc:
        raise RenderError(str(exc)) from exc


def _render_mastered(
    stems: Mapping[str, StemSource],
    recipe: Recipe | Mapping[str, Any],
    *,
    samplerate: int,
    progress: ProgressFn | None,
    timings: dict[str, float],
    target_lufs: float,
    ceiling_dbtp: float,
    takes: Mapping[str, StemSource] | None = None,
) -> MasterResult:
    """The mix of the recipe over the stems, brought to the target loudness."""
    try:
        mix = render_mix(
            stems, recipe, samplerate=samplerate, progress=progress, timings=timings, takes=takes
        )
        started = time.perf_counter()
        mastered = normalise_loudness(  # the mix is this render's own: mastered in place
            mix, samplerate, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp, overwrite=True
        )
        timings["master"] = time.perf_counter() - started
    except (RenderError, RecipeError):
        raise
    except Exception as exc:  # DSP library errors become readable failures
        raise RenderError(f"rendering failed: {exc}") from exc
    return mastered


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
    takes: Mapping[str, StemSource] | None = None,
) -> RenderResult:
    """Render ``recipe`` over ``stems`` into ``out_dir/basename.<fmt>`` for each format.

    ``stems`` maps stem name -> file path (decoded and resampled to ``samplerate``) or a
    float32 array already at ``samplerate``; ``takes`` likewise the fan's cover takes by
    id. ``recipe``: a validated :class:`~remixing.engine.recipe.Recipe` or a raw dict
    (validated here; :class:`RecipeError` propagates). ``tags``: :class:`RemixTags` or a
    dict of its fields. ``progress`` receives fractions in [0, 1], ending with 1.0.

    Raises :class:`RenderError` (readable) on unreadable stems, a recipe that does not fit
    them, or encoder failures; no output file remains after any failure.
    """
    formats = _checked_formats(formats)
    if not basename or os.sep in basename or basename.startswith("."):
        raise RenderError("basename must be a plain file name without a directory")
    remix_tags = _checked_tags(tags)
    timings: dict[str, float] = {}
    _report(progress, 0.0)
    levels = {"target_lufs": target_lufs, "ceiling_dbtp": ceiling_dbtp}
    mastered = _render_mastered(
        stems, recipe, samplerate=samplerate, progress=progress, timings=timings, takes=takes,
        **levels,
    )  # fmt: skip
    _report(progress, 0.75)
    try:
        files = _encode_all(
            mastered.audio, samplerate, Path(out_dir), basename, formats,
            encode or EncodeSettings(), remix_tags, timings,
        )  # fmt: skip
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


def _encode_one(
    tmp: Path,
    audio: np.ndarray,
    samplerate: int,
    fmt: str,
    encode: EncodeSettings,
    tags: RemixTags,
) -> float:
    started = time.perf_counter()
    encode_to(tmp, audio, samplerate, fmt, **_codec_options(fmt, encode, tags))
    tag_file(tmp, fmt, tags)
    return time.perf_counter() - started


def _encode_all(
    audio: np.ndarray,
    samplerate: int,
    out_dir: Path,
    basename: str,
    formats: Sequence[str],
    encode: EncodeSettings,
    tags: RemixTags,
    timings: dict[str, float],
) -> dict[str, Path]:
    """Encode and tag every format at once: each encoder is an ffmpeg process
    (or libsndfile, which releases the GIL), so the formats run on separate
    cores. All are staged and committed together; the pool is drained before
    the staging is left, so a failure leaves no file behind."""
    started = time.perf_counter()
    with StagedOutputs() as staged:
        dests = {fmt: out_dir / f"{basename}{_EXTENSIONS[fmt]}" for fmt in formats}
        temps = {fmt: staged.stage(dest) for fmt, dest in dests.items()}
        with ThreadPoolExecutor(max_workers=len(formats)) as pool:
            jobs = {
                fmt: pool.submit(_encode_one, temps[fmt], audio, samplerate, fmt, encode, tags)
                for fmt in formats
            }
        for fmt, job in jobs.items():
            timings[f"encode_{fmt}"] = job.result()  # re-raises an encoder's failure
        staged.commit()
    timings["encode"] = time.perf_counter() - started
    return dests


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
