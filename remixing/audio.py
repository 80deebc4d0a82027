"""The one place the Django side calls the pure audio engine.

Jobs talk to these few functions; if the engine's API moves, only this file
changes. The separation model is loaded lazily, once per worker process
(never in the prefork parent: CUDA state and big weights must not be forked).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from remixing.engine import audio_io, backends
from remixing.engine.audio_io import AudioIOError, sha256_file
from remixing.engine.backends import BackendChoice, SeparationSettings
from remixing.engine.recipe import RecipeError

logger = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]


class AudioError(Exception):
    """A permanent audio problem (corrupt input, bad recipe for these stems);
    the message is safe to show to a fan."""


@dataclass(frozen=True)
class RenderOutput:
    mp3: Path
    ogg: Path
    wav: Path | None
    sha256: str
    duration_s: float
    integrated_lufs: float | None
    true_peak_dbtp: float | None


# Counters the tests read to prove the cache works ("a second remix never
# runs the model"). Per process; cheap.
STATS = {"model_loads": 0, "separations": 0, "renders": 0}


def load(path: Path, *, samplerate: int | None = None) -> tuple[np.ndarray, int]:
    try:
        return audio_io.load_audio(path, samplerate=samplerate, channels=2)
    except AudioIOError as error:
        raise AudioError(str(error)) from None


# --- Separation ---------------------------------------------------------------------


def separation_settings() -> SeparationSettings:
    repo = settings.DEMUCS_MODEL_REPO
    return SeparationSettings(
        preference=settings.SEPARATION_BACKEND,
        demucs_model=settings.DEMUCS_MODEL,
        demucs_repo=Path(repo) if repo else None,
        demucs_device=settings.DEMUCS_DEVICE,
        runtime=settings.SEPARATION_RUNTIME,
        onnx_cache=Path(settings.SEPARATION_ONNX_CACHE),
        demucs_segment=settings.DEMUCS_SEGMENT,
    )


def separation_choice(*, model_name: str | None = None) -> BackendChoice:
    """(backend, model) that new stem sets use on this install: the configured choice, or
    the backend that owns `model_name` when a caller names one."""
    config = separation_settings()
    if model_name == backends.EMBEDDED_MODEL:
        return BackendChoice(backends.EMBEDDED, model_name, "named explicitly")
    if model_name:
        return BackendChoice(backends.DEMUCS, model_name, "named explicitly")
    try:
        return backends.choose(config)
    except backends.BackendUnavailable as error:
        raise AudioError(str(error)) from None


def separation_availability() -> dict:
    return backends.availability(separation_settings())


def separate(
    path: Path,
    *,
    backend: str,
    model_name: str,
    device: str | None = None,
    progress: ProgressFn,
) -> tuple[dict[str, np.ndarray], int, str, str]:
    """Separate one file with (`backend`, `model_name`); returns ({stem: audio},
    samplerate, device used, runtime used: see SeparationBackend.runtime).

    Demucs keeps one loaded model per worker process; it loads on first use inside the
    task, never in the prefork parent. A Demucs model without local weights is a
    permanent error: nothing is downloaded at run time.
    """
    config = separation_settings()
    if device:
        config = replace(config, demucs_device=device)
    data, samplerate = load(path)
    try:
        engine = backends.backend_for(backend, model_name, config)
        if isinstance(engine, backends.DemucsBackend) and not engine.is_loaded:
            STATS["model_loads"] += 1
        STATS["separations"] += 1
        stems = engine.separate(data, samplerate, lambda fraction: progress(fraction, "Separating"))
    except backends.BackendUnavailable as error:
        raise AudioError(str(error)) from None
    return stems, samplerate, engine.device, engine.runtime


def release() -> None:
    """Free GPU memory (after a soft time limit, or on worker shutdown)."""
    # Nothing to free if this process never imported the separation engine.
    separation = sys.modules.get("remixing.engine.separation")
    if separation is not None:
        with contextlib.suppress(Exception):
            separation.release()


# --- Stem files ---------------------------------------------------------------------


def lossless_suffix(data: np.ndarray) -> str:
    """FLAC is integer PCM and would clip a stem that peaks above full scale
    (separated stems can: they partly cancel each other in the mix), so such a
    stem is kept as 32-bit float WAV instead; every other stem as FLAC."""
    return ".wav" if float(np.max(np.abs(data), initial=0.0)) > 1.0 else ".flac"


# The studio streams these, never the lossless files: Opus at a listening
# bitrate (Chromium and Firefox decode it), MP3 for browsers that cannot.
STEM_PREVIEW_OPUS_BITRATE = "96k"
STEM_PREVIEW_MP3_BITRATE = "128k"
# What the studio preloads of each stem's MP3 before its scripts run: about its
# first 2 s (128 kb/s is 16,000 bytes a second; the rest covers the file's header).
STEM_PREVIEW_HEAD_BYTES = 2 * 16_000 + 4_096
STEM_PEAKS = 1000  # waveform columns, drawn before any audio is decoded


def stem_peaks(data: np.ndarray, columns: int = STEM_PEAKS) -> list[float]:
    """Max absolute amplitude of the channels' mean in `columns` equal spans
    (what the studio draws as the stem's waveform), to 3 decimals."""
    mono = np.mean(np.atleast_2d(data), axis=0)
    if mono.size == 0:
        return []
    columns = min(columns, mono.size)
    edges = np.linspace(0, mono.size, columns + 1).astype(np.int64)
    spans = np.maximum.reduceat(np.abs(mono), edges[:-1])
    return [round(float(v), 3) for v in spans]


def write_stem_previews(data: np.ndarray, samplerate: int, *, opus: Path, mp3: Path) -> dict:
    """The studio's light streams of one stem (both encoders run at once: each
    is an ffmpeg process) and its waveform peaks."""
    try:
        with ThreadPoolExecutor(2) as pool:
            jobs = [
                pool.submit(
                    audio_io.encode_ogg, opus, data, samplerate,
                    codec="opus", bitrate=STEM_PREVIEW_OPUS_BITRATE,
                ),
                pool.submit(
                    audio_io.encode_mp3, mp3, data, samplerate, bitrate=STEM_PREVIEW_MP3_BITRATE
                ),
            ]  # fmt: skip
            for job in jobs:
                job.result()
    except AudioIOError as error:
        raise AudioError(str(error)) from None
    return {"peaks": stem_peaks(data)}


def write_stem(
    data: np.ndarray, samplerate: int, *, lossless: Path, preview: Path, preview_mp3: Path
) -> dict:
    """Lossless (FLAC, or float WAV above full scale) for rendering; Ogg Opus
    and MP3 previews plus waveform peaks for the browser studio."""
    try:
        subtype = "FLOAT" if lossless.suffix.lower() == ".wav" else None
        audio_io.write_audio(lossless, data, samplerate, subtype=subtype)
    except AudioIOError as error:
        raise AudioError(str(error)) from None
    made = write_stem_previews(data, samplerate, opus=preview, mp3=preview_mp3)
    return {
        "duration_s": float(data.shape[-1]) / samplerate,
        "samplerate": samplerate,
        "sha256": sha256_file(lossless),
        **made,
    }


# --- Recording previews -------------------------------------------------------------

# What a visitor hears of a track before subscribing: at most this long, and
# never more than half of the track (the demo's tracks are under 40 s).
EXCERPT_MAX_S = 30.0
EXCERPT_FADE_S = 1.0
PREVIEW_OGG_QUALITY = 4.0  # Vorbis ~128 kb/s: a listening copy, not a master


def excerpt_window(duration_s: float) -> tuple[float, float]:
    """(start, length) of the excerpt: from a quarter in, so it is the song."""
    length = min(EXCERPT_MAX_S, duration_s / 2)
    start = min(duration_s * 0.25, duration_s - length)
    return max(start, 0.0), length


def write_recording_previews(source: Path, *, full: Path, excerpt: Path) -> dict:
    """Lossy copies of a master: the whole track, and a faded excerpt."""
    data, samplerate = load(source)
    duration_s = float(data.shape[-1]) / samplerate
    start_s, length_s = excerpt_window(duration_s)
    first = int(start_s * samplerate)
    part = data[:, first : first + int(length_s * samplerate)].copy()
    fade = min(int(EXCERPT_FADE_S * samplerate), part.shape[-1] // 4)
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=part.dtype)
        part[:, :fade] *= ramp
        part[:, -fade:] *= ramp[::-1]
    try:
        audio_io.encode_ogg(full, data, samplerate, quality=PREVIEW_OGG_QUALITY)
        audio_io.encode_ogg(excerpt, part, samplerate, quality=PREVIEW_OGG_QUALITY)
    except AudioIOError as error:
        raise AudioError(str(error)) from None
    return {
        "duration_s": duration_s,
        "excerpt_start_s": start_s,
        "excerpt_s": float(part.shape[-1]) / samplerate,
    }


# --- Render -------------------------------------------------------------------------


def render(
    *,
    stems: Mapping[str, Path],
    recipe: Mapping[str, Any],
    out_dir: Path,
    basename: str,
    tags: Mapping[str, Any],
    progress: ProgressFn,
    wav: bool = False,
    samplerate: int = 44100,
    takes: Mapping[str, Path] | None = None,
) -> RenderOutput:
    """Mix, stretch, master, encode and tag; files land in `out_dir` only whole."""
    # Imported on first render: the render engine (pedalboard, numpy DSP) costs
    # seconds of start-up that web processes, which only read `separation_*`, never pay.
    from remixing.engine import render as engine_render

    STATS["renders"] += 1
    formats = ("mp3", "ogg", "wav") if wav else ("mp3", "ogg")
    try:
        result = engine_render.render_remix(
            dict(stems),
            dict(recipe),
            samplerate=samplerate,
            out_dir=out_dir,
            basename=basename,
            formats=formats,
            tags=dict(tags),
            progress=lambda fraction: progress(fraction, "Rendering"),
            takes=dict(takes or {}),
        )
    except (engine_render.RenderError, AudioIOError, RecipeError) as error:
        raise AudioError(str(error)) from None
    return RenderOutput(
        mp3=result.files["mp3"],
        ogg=result.files["ogg"],
        wav=result.files.get("wav"),
        sha256=sha256_file(result.files["mp3"]),
        duration_s=float(result.duration_s),
        integrated_lufs=float(result.integrated_lufs),
        true_peak_dbtp=float(result.true_peak_dbtp),
    )
