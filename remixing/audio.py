"""The one place the Django side calls the pure audio engine.

Jobs talk to these few functions; if the engine's API moves, only this file
changes. The separation model is loaded lazily, once per worker process
(never in the prefork parent: CUDA state and big weights must not be forked).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from remixing.engine import audio_io
from remixing.engine.audio_io import AudioIOError, sha256_file

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


def _separator_config(model_name: str, device: str | None):
    from remixing.engine.separation import SeparatorConfig

    repo = getattr(settings, "DEMUCS_MODEL_REPO", "") or ""
    return SeparatorConfig(
        model_name=model_name,
        model_repo=Path(repo) if repo else None,
        device=device or getattr(settings, "DEMUCS_DEVICE", "auto") or "auto",
    )


def separate(
    path: Path, *, model_name: str, device: str | None = None, progress: ProgressFn
) -> tuple[dict[str, np.ndarray], int, str]:
    """Separate one file; returns ({stem: audio}, samplerate, device used).

    The engine caches one separator per process; its model loads on first
    use inside the task, never in the prefork parent.
    """
    # torch is imported here, not at module import, so web processes and the
    # prefork parent never pay for it.
    from remixing.engine import separation

    data, samplerate = load(path)
    try:
        separator = separation.get_separator(_separator_config(model_name, device))
        if not separator.is_loaded:
            STATS["model_loads"] += 1
        STATS["separations"] += 1
        stems = separator.separate(
            data, samplerate, lambda fraction: progress(fraction, "Separating")
        )
    except (separation.SeparationError, ValueError) as error:
        raise AudioError(str(error)) from None
    return stems, samplerate, str(separator.device)


def release() -> None:
    """Free GPU memory (after a soft time limit, or on worker shutdown)."""
    import sys

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


def write_stem(data: np.ndarray, samplerate: int, *, lossless: Path, preview: Path) -> dict:
    """Lossless (FLAC, or float WAV above full scale) for rendering, Ogg Vorbis
    (seekable) for the browser studio."""
    try:
        subtype = "FLOAT" if lossless.suffix.lower() == ".wav" else None
        audio_io.write_audio(lossless, data, samplerate, subtype=subtype)
        audio_io.encode_ogg(preview, data, samplerate, quality=5.0)
    except AudioIOError as error:
        raise AudioError(str(error)) from None
    return {
        "duration_s": float(data.shape[-1]) / samplerate,
        "samplerate": samplerate,
        "sha256": sha256_file(lossless),
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
) -> RenderOutput:
    """Mix, stretch, master, encode and tag; files land in `out_dir` only whole."""
    from remixing.engine import render as engine_render
    from remixing.engine.recipe import RecipeError

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
