"""The batched segment loop of stem separation (see :mod:`remixing.engine.separation`).

:func:`apply_batched` cuts the track into overlapping segments exactly as
``demucs.apply.apply_model`` cuts it (same offsets, same centred context padding for
HTDemucs' fixed training length, same triangular transition weights, same accumulation
order) but sends ``batch_size`` segments through the network per forward pass under
``torch.inference_mode()``. It also holds the facts of a Demucs model both
separation paths read, and :class:`SeparationError`, which both raise.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any, cast

import torch
from demucs.apply import BagOfModels, TensorChunk
from demucs.htdemucs import HTDemucs
from demucs.utils import center_trim

ProgressFn = Callable[[float], None]
# What runs the network on a batch of segments in place of the model's own forward (the
# ONNX Runtime core of remixing.engine.onnx_runner), keyed by id() of the (sub-)model.
Forward = Callable[[torch.Tensor], torch.Tensor]


class SeparationError(RuntimeError):
    """Model could not be loaded or audio could not be separated (readable message)."""


def model_samplerate(model: torch.nn.Module) -> int:
    # Demucs models keep plain numbers as attributes; torch types every attribute
    # of a Module as Tensor | Module.
    return int(cast(int, model.samplerate))


def model_source_names(model: torch.nn.Module) -> list[str]:
    return list(cast(list[str], model.sources))


def sub_models(model: torch.nn.Module) -> list[tuple[torch.nn.Module, list[float] | None]]:
    if isinstance(model, BagOfModels):
        return list(zip(model.models, model.weights, strict=True))
    return [(model, None)]


def segment_seconds(model: torch.nn.Module, segment: float | None) -> float:
    seconds = segment if segment is not None else cast(float, model.segment)
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
        return int(cast(Callable[[int], int], model.valid_length)(length))
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


def chunk_count(length: int, segment_length: int, overlap: float) -> int:
    stride = int((1 - overlap) * segment_length)
    return len(range(0, length, stride))


class ChunkProgress:
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
    progress: ChunkProgress,
    forward: Forward | None = None,
) -> torch.Tensor:
    batch, channels, length = mix.shape
    segment_length = int(model_samplerate(model) * segment_seconds(model, segment))
    stride = int((1 - overlap) * segment_length)
    weight = _transition_weight(segment_length, device)
    out = torch.zeros(batch, len(model_source_names(model)), channels, length, device=device)
    sum_weight = torch.zeros(length, device=device)
    pending: list[tuple[int, int, torch.Tensor]] = []  # (offset, chunk length, net input)

    def flush() -> None:
        if not pending:
            return
        inputs = torch.cat([p[2] for p in pending]).to(device)
        outputs = (forward or model)(inputs)
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


def _shift_plans(
    subs: list[tuple[torch.nn.Module, list[float] | None]],
    length: int,
    *,
    segment: float | None,
    overlap: float,
    shifts: int,
) -> tuple[list[list[int]], int]:
    """Each sub-model's shift offsets and the chunk count of the whole run.

    Every offset is drawn up front, in the order apply_model draws them, so progress
    knows the total and seeded runs match the stock path.
    """
    plans: list[list[int]] = []
    total = 0
    for sub, _weights in subs:
        seg_len = int(model_samplerate(sub) * segment_seconds(sub, segment))
        if shifts:
            max_shift = int(0.5 * model_samplerate(sub))
            offsets = [random.randint(0, max_shift) for _ in range(shifts)]
            total += sum(chunk_count(length + max_shift - o, seg_len, overlap) for o in offsets)
        else:
            offsets = []
            total += chunk_count(length, seg_len, overlap)
        plans.append(offsets)
    return plans, total


def _apply_shifted(
    sub: torch.nn.Module,
    mix: torch.Tensor,
    offsets: list[int],
    *,
    device: torch.device,
    **kwargs: Any,
) -> torch.Tensor:
    """One sub-model over the mix, averaged over the shifted copies when there are any."""
    if not offsets:
        return _apply_split(sub, TensorChunk(mix), device=device, **kwargs)
    length = mix.shape[-1]
    max_shift = int(0.5 * model_samplerate(sub))
    padded = TensorChunk(mix).padded(length + 2 * max_shift)
    out = torch.zeros(1, len(model_source_names(sub)), mix.shape[1], length, device=device)
    for offset in offsets:
        shifted = TensorChunk(padded, offset, length + max_shift - offset)
        res = _apply_split(sub, shifted, device=device, **kwargs)
        out += res[..., max_shift - offset :]
    out /= len(offsets)
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
    forwards: Mapping[int, Forward] | None = None,
) -> torch.Tensor:
    """Batched equivalent of ``demucs.apply.apply_model(model, mix, split=True, ...)``.

    ``mix`` is ``(1, channels, samples)``, already normalised; returns
    ``(1, sources, channels, samples)`` on ``device``. Handles a bare HDemucs/HTDemucs or a
    BagOfModels (per-source weighted average of its members, like demucs). ``forwards``
    maps ``id(sub_model)`` to what runs that sub-model's segments instead of its forward.
    """
    device = device or mix.device
    subs = sub_models(model)
    length = mix.shape[-1]
    plans, total = _shift_plans(subs, length, segment=segment, overlap=overlap, shifts=shifts)
    tracker = ChunkProgress(total, progress)
    kwargs: dict[str, Any] = dict(
        segment=segment, overlap=overlap, batch_size=batch_size, device=device, progress=tracker
    )

    estimates: torch.Tensor | None = None
    totals = [0.0] * len(model_source_names(model))
    for sub, _weights in subs:
        # Outside inference mode: parameters moved inside it would become inference
        # tensors, which the stock (no_grad) path could then not use.
        sub.to(device)
    with torch.inference_mode():
        mix = mix.to(device)
        for (sub, weights), offsets in zip(subs, plans, strict=True):
            forward = (forwards or {}).get(id(sub))
            out = _apply_shifted(sub, mix, offsets, forward=forward, **kwargs)
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
