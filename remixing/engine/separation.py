"""Stem separation with Demucs.

Two code paths compute the same thing:

* :func:`apply_batched` - our segment loop: the track is cut into overlapping segments
  exactly as ``demucs.apply.apply_model`` cuts it (same offsets, same centred context
  padding for HTDemucs' fixed training length, same triangular transition weights, same
  accumulation order) but ``batch_size`` segments go through the network per forward pass
  under ``torch.inference_mode()``. On a GPU this keeps the device busy instead of feeding
  it one 7.8 s segment at a time.
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
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import julius
import numpy as np
import torch
from demucs.apply import BagOfModels, TensorChunk
from demucs.audio import convert_audio_channels
from demucs.htdemucs import HTDemucs
from demucs.utils import center_trim

logger = logging.getLogger(__name__)

ProgressFn = Callable[[float], None]
Device = Literal["auto", "cpu", "cuda"]
Method = Literal["batched", "stock"]

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


class SeparationError(RuntimeError):
    """Model could not be loaded or audio could not be separated (readable message)."""


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
        if self.model_repo is not None and not isinstance(self.model_repo, Path):
            object.__setattr__(self, "model_repo", Path(self.model_repo))


def resolve_device(device: Device) -> torch.device:
    """'auto' -> CUDA when available, else CPU. 'cuda' without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SeparationError("device 'cuda' was requested but no CUDA GPU is available")
    return torch.device(device)


def load_demucs_model(config: SeparatorConfig) -> torch.nn.Module:
    """``demucs.pretrained.get_model`` with readable errors (it may ``sys.exit`` otherwise)."""
    from demucs.pretrained import get_model

    if config.model_repo is not None and not config.model_repo.is_dir():
        raise SeparationError(f"model folder {config.model_repo} does not exist")
    try:
        model = get_model(config.model_name, repo=config.model_repo)
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
    return tuple(model.sources)  # type: ignore[arg-type]


def model_stems(model_name: str, repo: Path | None = None) -> tuple[str, ...]:
    """Stem names a model produces, in output order (htdemucs: 4, htdemucs_6s: 6).

    Known published models answer from a table; anything else is loaded (once, cached).
    """
    if repo is None and model_name in KNOWN_MODEL_STEMS:
        return KNOWN_MODEL_STEMS[model_name]
    return get_separator(SeparatorConfig(model_name=model_name, model_repo=repo)).sources


# ---------------------------------------------------------------------------------------
# The batched segment loop
# ---------------------------------------------------------------------------------------


def _sub_models(model: torch.nn.Module) -> list[tuple[torch.nn.Module, list[float] | None]]:
    if isinstance(model, BagOfModels):
        return list(zip(model.models, model.weights, strict=True))
    return [(model, None)]


def _segment_seconds(model: torch.nn.Module, segment: float | None) -> float:
    seconds = segment if segment is not None else model.segment
    if isinstance(model, HTDemucs) and seconds > model.segment:
        # HTDemucs' transformer is trained on a fixed length; longer inputs are invalid.
        raise SeparationError(
            f"segment {seconds} s exceeds the model's training segment {float(model.segment)} s"
        )
    return float(seconds)


def _valid_length(model: torch.nn.Module, length: int, segment: float | None) -> int:
    """Input length the network needs for a chunk of ``length`` samples (as demucs does).

    HTDemucs always wants its training length, so short chunks (the track's tail) are
    padded - with real neighbouring audio where it exists, zeros past the track's ends -
    and the output is centre-trimmed back. HDemucs takes any length.
    """
    if isinstance(model, HTDemucs) and segment is not None:
        return int(segment * model.samplerate)
    if hasattr(model, "valid_length"):
        return int(model.valid_length(length))
    return length


def _transition_weight(segment_length: int, device: torch.device) -> torch.Tensor:
    # Triangle peaking mid-segment (demucs' transition_power=1): overlapping segments
    # cross-fade linearly, hiding each segment's edge artefacts.
    weight = torch.cat(
        [
            torch.arange(1, segment_length // 2 + 1, device=device),
            torch.arange(segment_length - segment_length // 2, 0, -1, device=device),
        ]
    )
    return weight / weight.max()


def _chunk_count(length: int, segment_length: int, overlap: float) -> int:
    stride = int((1 - overlap) * segment_length)
    return len(range(0, length, stride))


class _Progress:
    """Monotonic fraction reporter: forward passes done / planned, 1.0 only at the end."""

    def __init__(self, total: int, callback: ProgressFn | None):
        self.total = max(1, total)
        self.done = 0
        self.callback = callback
        self.last = -1.0

    def tick(self, count: int) -> None:
        self.done += count
        self.report(min(0.99, self.done / self.total))

    def report(self, value: float) -> None:
        if self.callback is not None and value > self.last:
            self.last = value
            self.callback(value)


def _apply_split(
    model: torch.nn.Module,
    mix: TensorChunk,
    *,
    segment: float | None,
    overlap: float,
    batch_size: int,
    device: torch.device,
    progress: _Progress,
) -> torch.Tensor:
    batch, channels, length = mix.shape
    segment_length = int(model.samplerate * _segment_seconds(model, segment))
    stride = int((1 - overlap) * segment_length)
    weight = _transition_weight(segment_length, device)
    out = torch.zeros(batch, len(model.sources), channels, length, device=device)
    sum_weight = torch.zeros(length, device=device)
    pending: list[tuple[int, int, torch.Tensor]] = []  # (offset, chunk length, net input)

    def flush() -> None:
        if not pending:
            return
        inputs = torch.cat([p[2] for p in pending]).to(device)
        outputs = model(inputs)
        # Accumulate in offset order, one segment at a time, exactly like apply_model, so
        # float rounding matches the stock path.
        for index, (offset, chunk_length, _) in enumerate(pending):
            chunk_out = center_trim(outputs[index : index + 1], chunk_length)
            out[..., offset : offset + segment_length] += weight[:chunk_length] * chunk_out
            sum_weight[offset : offset + segment_length] += weight[:chunk_length]
        progress.tick(len(pending))
        pending.clear()

    for offset in range(0, length, stride):
        chunk = TensorChunk(mix, offset, segment_length)
        needed = _valid_length(model, chunk.length, segment)
        if pending and pending[0][2].shape[-1] != needed:
            flush()  # a batch must share one input length (only the tail chunks differ)
        pending.append((offset, chunk.length, chunk.padded(needed)))
        if len(pending) >= batch_size:
            flush()
    flush()
    assert float(sum_weight.min()) > 0
    out /= sum_weight
    return out


def apply_batched(
    model: torch.nn.Module,
    mix: torch.Tensor,
    *,
    segment: float | None = None,
    overlap: float = 0.25,
    batch_size: int = 8,
    shifts: int = 0,
    device: torch.device | None = None,
    progress: ProgressFn | None = None,
) -> torch.Tensor:
    """Batched equivalent of ``demucs.apply.apply_model(model, mix, split=True, ...)``.

    ``mix`` is ``(1, channels, samples)``, already normalised; returns
    ``(1, sources, channels, samples)`` on ``device``. Handles a bare HDemucs/HTDemucs or a
    BagOfModels (per-source weighted average of its members, like demucs).
    """
    device = device or mix.device
    subs = _sub_models(model)
    length = mix.shape[-1]
    # Draw every shift offset up front, in the order apply_model draws them, so progress
    # knows the total and seeded runs match the stock path.
    plans: list[list[int]] = []
    total = 0
    for sub, _weights in subs:
        seg_len = int(sub.samplerate * _segment_seconds(sub, segment))
        if shifts:
            max_shift = int(0.5 * sub.samplerate)
            offsets = [random.randint(0, max_shift) for _ in range(shifts)]
            total += sum(_chunk_count(length + max_shift - o, seg_len, overlap) for o in offsets)
        else:
            offsets = []
            total += _chunk_count(length, seg_len, overlap)
        plans.append(offsets)
    tracker = _Progress(total, progress)
    kwargs: dict[str, Any] = dict(
        segment=segment, overlap=overlap, batch_size=batch_size, device=device, progress=tracker
    )

    estimates: torch.Tensor | None = None
    totals = [0.0] * len(model.sources)
    for sub, _weights in subs:
        # Outside inference mode: parameters moved inside it would become inference
        # tensors, which the stock (no_grad) path could then not use.
        sub.to(device)
    with torch.inference_mode():
        mix = mix.to(device)
        for (sub, weights), offsets in zip(subs, plans, strict=True):
            if offsets:
                max_shift = int(0.5 * sub.samplerate)
                padded = TensorChunk(mix).padded(length + 2 * max_shift)
                out = torch.zeros(1, len(sub.sources), mix.shape[1], length, device=device)
                for offset in offsets:
                    shifted = TensorChunk(padded, offset, length + max_shift - offset)
                    res = _apply_split(sub, shifted, **kwargs)
                    out += res[..., max_shift - offset :]
                out /= len(offsets)
            else:
                out = _apply_split(sub, TensorChunk(mix), **kwargs)
            if weights is None:
                return out
            for k, inst_weight in enumerate(weights):
                out[:, k, :, :] *= inst_weight
                totals[k] += inst_weight
            estimates = out if estimates is None else estimates + out
        assert estimates is not None
        for k in range(estimates.shape[1]):
            estimates[:, k, :, :] /= totals[k]
    return estimates


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
        return int(self.model.samplerate)

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
        if samplerate != model.samplerate:
            wav = julius.resample_frac(wav, int(samplerate), int(model.samplerate))
        return wav

    def _finish(
        self,
        stems: dict[str, torch.Tensor],
        *,
        input_channels: int,
        input_length: int,
        input_rate: int,
        output_rate: int,
    ) -> dict[str, np.ndarray]:
        model_rate = int(self.model.samplerate)
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

    def _batched_core(
        self, wav: torch.Tensor, progress: ProgressFn | None
    ) -> dict[str, torch.Tensor]:
        model = self.model
        # Same normalisation as demucs.api.Separator.separate_tensor.
        ref = wav.mean(0)
        mean = ref.mean()
        std = ref.std() + 1e-8
        out = apply_batched(
            model,
            ((wav - mean) / std)[None],
            segment=self.config.segment,
            overlap=self.config.overlap,
            batch_size=self.batch_size,
            shifts=self.config.shifts,
            device=self.device,
            progress=progress,
        )
        out = out.to("cpu") * std + mean
        return dict(zip(model_sources(model), out[0], strict=True))


def _stock_core(
    separator: Separator, wav: torch.Tensor, progress: ProgressFn | None
) -> dict[str, torch.Tensor]:
    """Run stock ``demucs.api.Separator.separate_tensor`` with the already-loaded model."""
    import demucs.api

    model = separator.model
    config = separator.config
    subs = _sub_models(model)
    length = wav.shape[-1]
    total = 0
    for sub, _ in subs:
        seg_len = int(sub.samplerate * _segment_seconds(sub, config.segment))
        extra = int(0.5 * sub.samplerate) if config.shifts else 0
        total += max(1, config.shifts) * _chunk_count(length + extra, seg_len, config.overlap)
    tracker = _Progress(total, progress)

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
    _wav, stems = stock.separate_tensor(wav, int(model.samplerate))
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
    from dataclasses import replace

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
