"""Stem separation with Demucs.

Two code paths compute the same thing:

* :func:`~remixing.engine.batched_separation.apply_batched` - our segment loop: the track
  is cut into overlapping segments exactly as ``demucs.apply.apply_model`` cuts it (same
  offsets, same centred context padding for HTDemucs' fixed training length, same
  triangular transition weights, same accumulation order) but ``batch_size`` segments go
  through the network per forward pass under ``torch.inference_mode()``. On a GPU this
  keeps the device busy instead of feeding it one 7.8 s segment at a time.
* :func:`separate_with_demucs_api` - stock ``demucs.api.Separator``, kept for comparison and
  as a fallback (``SeparatorConfig(method="stock")``).

Tests check both give the same stems (max abs diff < 1e-4). Models are loaded lazily, once
per process, through :func:`get_separator`: never at import time, so a Celery prefork
parent never holds a model (or a CUDA context) that its children would inherit.
"""

from __future__ import annotations

import gc
import logging
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import demucs.api
import julius
import numpy as np
import torch
from demucs.audio import convert_audio_channels
from demucs.pretrained import get_model

from . import onnx_runner
from .batched_separation import (
    ChunkProgress,
    ProgressFn,
    SeparationError,
    apply_batched,
    chunk_count,
    model_samplerate,
    model_source_names,
    segment_seconds,
    sub_models,
)

logger = logging.getLogger(__name__)

Device = Literal["auto", "cpu", "cuda"]
Method = Literal["batched", "stock"]
# What runs the network on each segment: PyTorch, ONNX Runtime (the exported core, see
# remixing.engine.onnx_runner), or "auto": ONNX Runtime on CPU when it is importable.
Runtime = Literal["auto", "torch", "onnx"]

_FOUR = ("drums", "bass", "other", "vocals")
# Stems of the published models, so callers (upload forms, presets, consent UI) can know
# what a model yields without loading hundreds of MB of weights.
KNOWN_MODEL_STEMS: dict[str, tuple[str, ...]] = {
    "htdemucs": _FOUR,
    "htdemucs_ft": _FOUR,
    "htdemucs_6s": (*_FOUR, "guitar", "piano"),
    "hdemucs_mmi": _FOUR,
    "mdx": _FOUR,
    "mdx_extra": _FOUR,
    "mdx_q": _FOUR,
    "mdx_extra_q": _FOUR,
    "demucs_unittest": _FOUR,
}


@dataclass(frozen=True)
class SeparatorConfig:
    """How to separate. Hashable: it is the key of the per-process model cache."""

    model_name: str = "htdemucs"
    # Local folder with ``<sig>.th`` weights and bag ``.yaml`` files (offline deployments).
    # None: demucs 4.1 fetches the named model from the Hugging Face hub (HF cache), falling
    # back to the legacy download into the torch hub cache; either needs network once.
    model_repo: Path | None = None
    device: Device = "auto"
    segment: float | None = None  # seconds; None = the model's own training segment
    overlap: float = 0.25
    batch_size: int = 8  # segments per forward pass on CUDA
    # Segments per forward pass on CPU. Measured (bench/separation.py --threads 1, 2-core
    # EPYC, htdemucs architecture with random weights, 15 s clip): B=1 18.1 s, B=2 21.4 s,
    # stock demucs.api 17.6 s. The full-size model is memory-bound on CPU, so batching
    # only costs time there; even tiny demucs_unittest is ~10% slower at B=4/8.
    cpu_batch_size: int = 1
    shifts: int = 0  # >0: demucs' random-shift averaging, ``shifts`` times slower
    # "batched" (ours) or "stock" (demucs.api): same output (max diff ~1e-7). On CPU they
    # tie within +-4% (same forward passes at cpu_batch_size=1); batched stays the default
    # because it is not measurably slower there and batches segments on CUDA (not measured
    # here: no GPU was available when this was written).
    method: Method = "batched"
    # torch intra-op threads for this worker process (None: torch's default = all cores).
    # With N prefork workers on one box, N * threads should not exceed the core count.
    num_threads: int | None = None
    # "torch" here (tests and benches compare against it); the worker passes the
    # SEPARATION_RUNTIME setting, "auto" by default. Only the batched method uses ONNX.
    runtime: Runtime = "torch"
    # Folder of the exported ONNX cores (None: a folder in the system's temp dir).
    onnx_cache: Path | None = None

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError("device must be 'auto', 'cpu' or 'cuda'")
        if not 0.0 <= self.overlap < 1.0:
            raise ValueError("overlap must be in [0, 1)")
        if self.batch_size < 1 or self.cpu_batch_size < 1:
            raise ValueError("batch_size and cpu_batch_size must be >= 1")
        if self.shifts < 0:
            raise ValueError("shifts must be >= 0")
        if self.segment is not None and self.segment <= 0:
            raise ValueError("segment must be positive")
        if self.method not in ("batched", "stock"):
            raise ValueError("method must be 'batched' or 'stock'")
        if self.runtime not in ("auto", "torch", "onnx"):
            raise ValueError("runtime must be 'auto', 'torch' or 'onnx'")
        for name in ("model_repo", "onnx_cache"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))


def resolve_device(device: Device) -> torch.device:
    """'auto' -> CUDA when available, else CPU. 'cuda' without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SeparationError("device 'cuda' was requested but no CUDA GPU is available")
    return torch.device(device)


def load_demucs_model(config: SeparatorConfig) -> torch.nn.Module:
    """``demucs.pretrained.get_model`` with readable errors (it may ``sys.exit`` otherwise)."""
    if config.model_repo is not None and not config.model_repo.is_dir():
        raise SeparationError(f"model folder {config.model_repo} does not exist")
    try:
        model: torch.nn.Module = get_model(config.model_name, repo=config.model_repo)
    except (Exception, SystemExit) as exc:
        hint = (
            ""
            if config.model_repo is not None
            else " Without network access, download the weights once and set model_repo."
        )
        raise SeparationError(
            f"could not load Demucs model {config.model_name!r}: {exc}.{hint}"
        ) from exc
    model.eval()
    return model


def model_sources(model: torch.nn.Module) -> tuple[str, ...]:
    return tuple(model_source_names(model))


def model_stems(model_name: str, repo: Path | None = None) -> tuple[str, ...]:
    """Stem names a model produces, in output order (htdemucs: 4, htdemucs_6s: 6).

    Known published models answer from a table; anything else is loaded (once, cached).
    """
    if repo is None and model_name in KNOWN_MODEL_STEMS:
        return KNOWN_MODEL_STEMS[model_name]
    return get_separator(SeparatorConfig(model_name=model_name, model_repo=repo)).sources


# ---------------------------------------------------------------------------------------
# Separator: lazy model, pre/post-processing, both code paths
# ---------------------------------------------------------------------------------------


class Separator:
    """A configured Demucs separator whose model loads on first use.

    Obtain one through :func:`get_separator` so each worker process loads a model once.
    """

    def __init__(self, config: SeparatorConfig, *, model: torch.nn.Module | None = None):
        self.config = config
        self._model = model
        self._pid = os.getpid() if model is not None else None
        self._lock = threading.Lock()
        self.load_count = 0
        self._device: torch.device | None = None
        # ONNX Runtime cores by id(sub-model), built once per process (empty: PyTorch).
        self._cores: dict[int, onnx_runner.OnnxCore] | None = None
        self._cores_pid: int | None = None
        self._cores_lock = threading.Lock()
        # Why ONNX Runtime is not used, when it was wanted ("" otherwise).
        self.runtime_note = ""
        # Which runtime made the last separation's segments: torch, onnxruntime or both.
        self.last_runtime: str | None = None

    # -- model lifecycle -------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        if self._device is None:
            self._device = resolve_device(self.config.device)
        return self._device

    @property
    def batch_size(self) -> int:
        """Segments per forward pass on this separator's device."""
        if self.device.type == "cuda":
            return self.config.batch_size
        return self.config.cpu_batch_size

    @property
    def is_loaded(self) -> bool:
        return self._model is not None and self._pid == os.getpid()

    @property
    def model(self) -> torch.nn.Module:
        """The model, loaded (once per process) on first access."""
        if self.is_loaded:
            assert self._model is not None
            return self._model
        with self._lock:
            if not self.is_loaded:
                if self._model is not None and self._pid is not None and self.device.type == "cuda":
                    # Forked child of a process that had the model on the GPU: CUDA state
                    # does not survive fork, so load a fresh copy. CPU weights are fine
                    # to share copy-on-write.
                    self._model = None
                if self._model is None:
                    self._model = load_demucs_model(self.config)
                    self.load_count += 1
                    logger.info("loaded Demucs model %s on %s", self.config.model_name, self.device)
                if self.config.num_threads:
                    torch.set_num_threads(self.config.num_threads)
                self._model.to(self.device).eval()
                self._pid = os.getpid()
        assert self._model is not None
        return self._model

    @property
    def sources(self) -> tuple[str, ...]:
        if self._model is None and self.config.model_repo is None:
            known = KNOWN_MODEL_STEMS.get(self.config.model_name)
            if known is not None:
                return known
        return model_sources(self.model)

    @property
    def samplerate(self) -> int:
        return model_samplerate(self.model)

    def release(self, *, unload: bool = False) -> None:
        """Free cached accelerator memory (e.g. after a soft time limit interrupted a job).

        Intermediate tensors of an aborted separation become garbage once the exception
        unwinds; ``gc.collect`` reclaims them and ``empty_cache`` returns the blocks to the
        driver. ``unload=True`` also drops the model itself (it reloads on next use).
        """
        if unload:
            with self._lock:
                self._model = None
                self._pid = None
            with self._cores_lock:
                self._cores = None
        gc.collect()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()

    # -- separation ------------------------------------------------------------------

    def _prepare(self, audio: np.ndarray, samplerate: int) -> torch.Tensor:
        model = self.model
        array = np.asarray(audio, dtype=np.float32)
        if array.ndim == 1:
            array = array[np.newaxis, :]
        if array.ndim != 2 or array.shape[-1] == 0:
            raise SeparationError("audio must be a non-empty (channels, samples) array")
        if not np.all(np.isfinite(array)):
            raise SeparationError("audio contains NaN or infinite samples")
        wav = torch.from_numpy(np.ascontiguousarray(array))
        try:
            wav = convert_audio_channels(wav, model.audio_channels)
        except ValueError as exc:
            raise SeparationError(str(exc)) from exc
        if samplerate != model_samplerate(model):
            wav = julius.resample_frac(wav, int(samplerate), model_samplerate(model))
        prepared: torch.Tensor = wav
        return prepared

    def _finish(
        self,
        stems: dict[str, torch.Tensor],
        *,
        input_channels: int,
        input_length: int,
        input_rate: int,
        output_rate: int,
    ) -> dict[str, np.ndarray]:
        model_rate = model_samplerate(self.model)
        out: dict[str, np.ndarray] = {}
        for name, tensor in stems.items():
            tensor = tensor.detach().to("cpu", torch.float32)
            if output_rate != model_rate:
                wanted = round(input_length * output_rate / input_rate)
                tensor = julius.resample_frac(tensor, model_rate, output_rate, output_length=wanted)
            if input_channels == 1 and tensor.shape[0] > 1:
                # Mono in, mono out: the channels are identical copies anyway.
                tensor = tensor.mean(dim=0, keepdim=True)
            out[name] = np.ascontiguousarray(tensor.numpy(), dtype=np.float32)
        return out

    def separate(
        self,
        audio: np.ndarray,
        samplerate: int,
        progress: ProgressFn | None = None,
        *,
        output_samplerate: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Split ``audio`` (float32 ``(channels, samples)``) into stems.

        Audio is resampled to the model's rate for the network; stems come back at
        ``output_samplerate`` (default: the input's rate, same length as the input) and
        with the input's channel count for mono/stereo input. ``progress`` receives
        increasing fractions and finally exactly 1.0.
        """
        array = np.asarray(audio)
        channels = 1 if array.ndim == 1 else int(array.shape[0])
        length = int(array.shape[-1])
        wav = self._prepare(array, samplerate)
        if self.config.method == "stock":
            stems = _stock_core(self, wav, progress)
            self.last_runtime = onnx_runner.TORCH
        else:
            stems = self._batched_core(wav, progress)
        result = self._finish(
            stems,
            input_channels=channels,
            input_length=length,
            input_rate=samplerate,
            output_rate=output_samplerate or samplerate,
        )
        if progress is not None:
            progress(1.0)
        return result

    def wants_onnx(self) -> bool:
        """Whether this separator's config asks for ONNX Runtime on this device."""
        if self.config.method != "batched" or self.config.runtime == "torch":
            return False
        if self.config.runtime == "auto":
            return self.device.type == "cpu" and onnx_runner.onnxruntime_available()
        return True

    def onnx_cores(self) -> dict[int, onnx_runner.OnnxCore]:
        """The ONNX Runtime core of each sub-model (exported or read from the cache once
        per process); empty when PyTorch runs, which is logged when ONNX was wanted."""
        model = self.model
        with self._cores_lock:
            if self._cores is not None and self._cores_pid == os.getpid():
                return self._cores
            cores: dict[int, onnx_runner.OnnxCore] = {}
            if self.wants_onnx():
                try:
                    cores = self._load_cores(model)
                    self.runtime_note = ""
                except (onnx_runner.OnnxUnavailable, SeparationError) as error:
                    cores = {}
                    self.runtime_note = str(error)
                    logger.warning(
                        "Demucs %s: ONNX Runtime is not used (%s); separating with PyTorch",
                        self.config.model_name,
                        error,
                    )
            self._cores, self._cores_pid = cores, os.getpid()
            return cores

    def _load_cores(self, model: torch.nn.Module) -> dict[int, onnx_runner.OnnxCore]:
        folder = self.config.onnx_cache or Path(tempfile.gettempdir()) / "clearmix-onnx"
        subs = sub_models(model)
        cores = {}
        for index, (sub, _weights) in enumerate(subs):
            name = self.config.model_name + (f".{index}" if len(subs) > 1 else "")
            seconds = segment_seconds(sub, self.config.segment)
            cores[id(sub)] = onnx_runner.load_core(
                sub,
                model_name=name,
                segment_length=int(model_samplerate(sub) * seconds),
                folder=folder,
                device=self.device,
                threads=self.config.num_threads,
            )
        return cores

    def _batched_core(
        self, wav: torch.Tensor, progress: ProgressFn | None
    ) -> dict[str, torch.Tensor]:
        model = self.model
        # Same normalisation as demucs.api.Separator.separate_tensor.
        ref = wav.mean(0)
        mean = ref.mean()
        std = ref.std() + 1e-8
        forwards = self.onnx_cores()
        for core in forwards.values():
            core.segments.clear()
        out = apply_batched(
            model,
            ((wav - mean) / std)[None],
            segment=self.config.segment,
            overlap=self.config.overlap,
            batch_size=self.batch_size,
            shifts=self.config.shifts,
            device=self.device,
            progress=progress,
            forwards=forwards,
        )
        self.last_runtime = onnx_runner.runtime_label(
            sum((core.segments for core in forwards.values()), Counter())
        )
        out = out.to("cpu") * std + mean
        return dict(zip(model_sources(model), out[0], strict=True))


def _stock_core(
    separator: Separator, wav: torch.Tensor, progress: ProgressFn | None
) -> dict[str, torch.Tensor]:
    """Run stock ``demucs.api.Separator.separate_tensor`` with the already-loaded model."""
    model = separator.model
    config = separator.config
    subs = sub_models(model)
    length = wav.shape[-1]
    total = 0
    for sub, _ in subs:
        seg_len = int(model_samplerate(sub) * segment_seconds(sub, config.segment))
        extra = int(0.5 * model_samplerate(sub)) if config.shifts else 0
        total += max(1, config.shifts) * chunk_count(length + extra, seg_len, config.overlap)
    tracker = ChunkProgress(total, progress)

    def callback(info: dict[str, Any]) -> None:
        if info.get("state") == "end":
            tracker.tick(1)

    class _Preloaded(demucs.api.Separator):
        # demucs.api.Separator always loads its model in __init__; reuse ours instead so
        # the comparison measures inference only and the model stays loaded once.
        def _load_model(self) -> None:
            self._model = model
            self._audio_channels = model.audio_channels
            self._samplerate = model.samplerate

    stock = _Preloaded(
        model=config.model_name,
        repo=config.model_repo,
        device=str(separator.device),
        shifts=config.shifts,
        overlap=config.overlap,
        split=True,
        segment=config.segment,  # type: ignore[arg-type]  # demucs hints int, uses float
        jobs=0,
        progress=False,
        callback=callback,
    )
    _wav, stems = stock.separate_tensor(wav, model_samplerate(model))
    return stems


def separate_with_demucs_api(
    audio: np.ndarray,
    samplerate: int,
    progress: ProgressFn | None = None,
    *,
    config: SeparatorConfig | None = None,
    separator: Separator | None = None,
    output_samplerate: int | None = None,
) -> dict[str, np.ndarray]:
    """Same contract as :meth:`Separator.separate`, computed by stock ``demucs.api``.

    Uses ``separator``'s (or the cached separator for ``config``'s) already-loaded model,
    so comparing the two paths never loads the weights twice.
    """
    base = separator if separator is not None else get_separator(config or SeparatorConfig())
    stock = Separator(replace(base.config, method="stock"), model=base.model)
    stock._device = base.device
    return stock.separate(audio, samplerate, progress, output_samplerate=output_samplerate)


# ---------------------------------------------------------------------------------------
# Process-wide cache
# ---------------------------------------------------------------------------------------

_CACHE: dict[SeparatorConfig, Separator] = {}
_CACHE_LOCK = threading.Lock()


def get_separator(config: SeparatorConfig | None = None) -> Separator:
    """The process's :class:`Separator` for ``config`` (created on first call, model
    loaded on first use). Safe to call from several threads."""
    config = config or SeparatorConfig()
    with _CACHE_LOCK:
        separator = _CACHE.get(config)
        if separator is None:
            separator = _CACHE[config] = Separator(config)
        return separator


def release(*, unload: bool = False) -> None:
    """:meth:`Separator.release` on every cached separator (soft time limit handler)."""
    with _CACHE_LOCK:
        separators = list(_CACHE.values())
        if unload:
            _CACHE.clear()
    for separator in separators:
        separator.release(unload=unload)
    if not separators:
        gc.collect()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()


def cached_separators() -> Sequence[Separator]:
    with _CACHE_LOCK:
        return list(_CACHE.values())


def _reset_after_fork() -> None:
    # A forked child must never reuse the parent's model/CUDA state or a lock the parent
    # might have held mid-fork: start with an empty cache and fresh locks.
    global _CACHE, _CACHE_LOCK
    _CACHE = {}
    _CACHE_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
