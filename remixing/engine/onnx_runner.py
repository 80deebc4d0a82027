"""Demucs' network core in ONNX Runtime: the ``onnx`` separation runtime.

A hybrid Demucs model (HTDemucs, HDemucs) computes an STFT of each segment, runs its
network on the magnitude and on the waveform, masks the spectrogram and inverts it. The
complex STFT/iSTFT do not export to ONNX, so they stay PyTorch (demucs' own methods) and
only the network between them - :class:`HybridCore`, ``(magnitude, mix) -> (frequency
branch, time branch)`` - is exported, once, for the fixed segment length the segment loop
feeds it (HTDemucs pads every segment to its training length, so every segment fits).

The exported file is cached in a folder, named after the model, a SHA-256 of its weights,
the segment length and the onnxruntime, torch and export-code versions, so new weights or
a library upgrade export again. It is written to a temporary file and renamed into place:
a second worker never reads a half-written file. A file that does not load, or whose
output disagrees with PyTorch on a probe segment, is replaced once; if export or loading
still fails, :class:`OnnxUnavailable` says why and the caller separates with PyTorch.

Segments of another length (HDemucs' shorter last segments; HDemucs takes any length) run
in PyTorch; :class:`OnnxCore` counts which runtime made each segment, so provenance can say
``onnxruntime+torch`` when both did.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from demucs.hdemucs import HDemucs
from demucs.htdemucs import HTDemucs
from einops import rearrange
from torch.nn import functional

logger = logging.getLogger(__name__)

TORCH = "torch"
ONNXRUNTIME = "onnxruntime"
MIXED = "onnxruntime+torch"
# Bump when HybridCore or the export arguments change: cached files of older code are
# then never loaded.
CORE_VERSION = 1
OPSET = 17
# Probe check after loading: ONNX Runtime and PyTorch must agree this closely on the
# network's outputs (relative to their peak); measured differences are ~1e-6.
PROBE_TOLERANCE = 1e-3


class OnnxUnavailable(RuntimeError):
    """The ONNX runtime cannot run this model here (readable reason; fall back to torch)."""


def import_onnxruntime() -> Any:
    """The onnxruntime module, or OnnxUnavailable when it cannot be imported."""
    try:
        import onnxruntime
    except ImportError as error:
        raise OnnxUnavailable(f"onnxruntime cannot be imported ({error})") from None
    return onnxruntime


def onnxruntime_available() -> bool:
    try:
        import_onnxruntime()
    except OnnxUnavailable:
        return False
    return True


class HybridCore(torch.nn.Module):
    """A hybrid Demucs' forward between its STFT and its inverse STFT (demucs 4.1's code,
    the complex spectrogram kept outside): (magnitude, mix) -> (frequency-branch output,
    time-branch output), both denormalised. Exportable to ONNX."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        if not isinstance(model, HTDemucs | HDemucs):
            raise OnnxUnavailable(f"{type(model).__name__} is not a hybrid Demucs model")
        if isinstance(model, HDemucs) and not model.hybrid:
            raise OnnxUnavailable("a non-hybrid HDemucs has no time branch to export")
        self.m = model
        self.transformer = isinstance(model, HTDemucs)

    def forward(self, mag: torch.Tensor, mix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m: Any = self.m  # demucs modules: torch's stubs type their attributes as Tensor | Module
        batch, _channels, freqs, frames = mag.shape
        mean, std = mag.mean(dim=(1, 2, 3), keepdim=True), mag.std(dim=(1, 2, 3), keepdim=True)
        x = (mag - mean) / (1e-5 + std)
        meant, stdt = mix.mean(dim=(1, 2), keepdim=True), mix.std(dim=(1, 2), keepdim=True)
        xt = (mix - meant) / (1e-5 + stdt)
        saved, saved_t, lengths, lengths_t = [], [], [], []
        for idx, encode in enumerate(m.encoder):
            lengths.append(x.shape[-1])
            inject = None
            if idx < len(m.tencoder):
                lengths_t.append(xt.shape[-1])
                tenc = m.tencoder[idx]
                xt = tenc(xt)
                if not tenc.empty:
                    saved_t.append(xt)
                else:
                    inject = xt
            x = encode(x, inject)
            if idx == 0 and m.freq_emb is not None:
                frs = torch.arange(x.shape[-2], device=x.device)
                emb = m.freq_emb(frs).t()[None, :, :, None].expand_as(x)
                x = x + m.freq_emb_scale * emb
            saved.append(x)
        if self.transformer:
            x, xt = self._cross(x, xt)
        else:  # HDemucs starts decoding from zeros (the skips carry the signal)
            x = torch.zeros_like(x)
            xt = torch.zeros_like(x)
        for idx, decode in enumerate(m.decoder):
            x, pre = decode(x, saved.pop(-1), lengths.pop(-1))
            offset = m.depth - len(m.tdecoder)
            if idx >= offset:
                tdec = m.tdecoder[idx - offset]
                length_t = lengths_t.pop(-1)
                if tdec.empty:
                    xt, _ = tdec(pre[:, :, 0], None, length_t)
                else:
                    xt, _ = tdec(xt, saved_t.pop(-1), length_t)
        sources = len(m.sources)
        x = x.view(batch, sources, -1, freqs, frames) * std[:, None] + mean[:, None]
        xt = xt.view(batch, sources, -1, mix.shape[-1]) * stdt[:, None] + meant[:, None]
        return x, xt

    def _cross(self, x: torch.Tensor, xt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m: Any = self.m  # demucs modules: torch's stubs type their attributes as Tensor | Module
        if not m.crosstransformer:
            return x, xt
        if m.bottom_channels:
            f = x.shape[2]
            x = rearrange(m.channel_upsampler(rearrange(x, "b c f t-> b c (f t)")),
                          "b c (f t)-> b c f t", f=f)  # fmt: skip
            xt = m.channel_upsampler_t(xt)
        x, xt = m.crosstransformer(x, xt)
        if m.bottom_channels:
            x = rearrange(m.channel_downsampler(rearrange(x, "b c f t-> b c (f t)")),
                          "b c (f t)-> b c f t", f=f)  # fmt: skip
            xt = m.channel_downsampler_t(xt)
        return x, xt


def core_length(model: torch.nn.Module, segment_length: int) -> int:
    """The one input length the exported core takes: HTDemucs' training length (it pads
    every segment to it), else the segment loop's full segment length."""
    if isinstance(model, HTDemucs) and model.use_train_segment:
        return int(model.segment * model.samplerate)
    return int(segment_length)


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of the model's parameters and buffers (names, dtypes, shapes, bytes)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        data = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{data.dtype}:{tuple(data.shape)};".encode())
        digest.update(data.view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()


def cache_path(folder: Path, model_name: str, model: torch.nn.Module, length: int) -> Path:
    """Where the exported core of (model name, weights, length, versions) is cached."""
    ort = import_onnxruntime()
    key = (
        f"{model_name}-{type(model).__name__}-{weights_digest(model)[:16]}-n{length}"
        f"-ort{ort.__version__}-torch{torch.__version__}-v{CORE_VERSION}"
    )
    return Path(folder) / (re.sub(r"[^A-Za-z0-9._-]", "_", key) + ".onnx")


def _probe(model: Any, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    mix = 0.1 * torch.randn(1, model.audio_channels, length, generator=generator)
    with torch.no_grad():
        mag = model._magnitude(model._spec(mix))
    return mag, mix


def export_core(model: torch.nn.Module, length: int, path: Path) -> float:
    """Export HybridCore(model) for `length`-sample segments to `path`, atomically (a
    temporary file in the same folder, renamed into place). Returns the seconds taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mag, mix = _probe(model, length)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    os.close(handle)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # The tracer warns about every shape computed in Python; the fixed segment
            # length is exactly what it bakes in, and the probe check compares the result.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                HybridCore(model).eval(), (mag, mix), temp, input_names=["mag", "mix"],
                output_names=["x", "xt"], opset_version=OPSET, dynamo=False,
                dynamic_axes={name: {0: "batch"} for name in ("mag", "mix", "x", "xt")},
            )  # fmt: skip
        _patch_bool_eyelike(temp)
        os.replace(temp, path)
    except Exception as error:
        Path(temp).unlink(missing_ok=True)
        raise OnnxUnavailable(f"ONNX export failed: {error}") from error
    return time.perf_counter() - start


def _patch_bool_eyelike(path: str) -> None:
    """Demucs' local attention masks with ``torch.eye(T, dtype=bool)``, which exports as
    a boolean EyeLike that ONNX Runtime does not implement: make it a float EyeLike
    between Casts from and to bool (the same values)."""
    import onnx

    graph_model = onnx.load(path)
    graph = graph_model.graph
    inferred = onnx.shape_inference.infer_shapes(graph_model).graph
    types = {v.name: v.type.tensor_type.elem_type for v in [*inferred.value_info, *inferred.output]}
    nodes, changed = [], False
    for node in graph.node:
        if node.op_type != "EyeLike" or types.get(node.output[0]) != onnx.TensorProto.BOOL:
            nodes.append(node)
            continue
        shape_of = f"{node.input[0]}_float"
        nodes.append(
            onnx.helper.make_node(
                "Cast", [node.input[0]], [shape_of], to=onnx.TensorProto.FLOAT,
                name=f"{node.name}_from_bool",
            )
        )  # fmt: skip
        node.input[0] = shape_of
        nodes.append(node)
        kept = [a for a in node.attribute if a.name != "dtype"]
        del node.attribute[:]
        node.attribute.extend([*kept, onnx.helper.make_attribute("dtype", onnx.TensorProto.FLOAT)])
        wanted = node.output[0]
        node.output[0] = f"{wanted}_float"
        nodes.append(
            onnx.helper.make_node(
                "Cast", [node.output[0]], [wanted], to=onnx.TensorProto.BOOL,
                name=f"{node.name}_to_bool",
            )
        )  # fmt: skip
        changed = True
    if changed:
        del graph.node[:]
        graph.node.extend(nodes)
        onnx.save(graph_model, path)


def providers_for(device: torch.device) -> list[str]:
    ort = import_onnxruntime()
    if device.type == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise OnnxUnavailable("this onnxruntime has no CUDAExecutionProvider")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _session(path: Path, providers: list[str], threads: int | None) -> Any:
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # As many threads as PyTorch uses in this worker (torch.set_num_threads / the
    # separator's num_threads), and no spin-waiting: on a shared CPU box idle ONNX Runtime
    # threads would otherwise burn cores between segments.
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=providers)


def _check(session: Any, model: torch.nn.Module, length: int) -> None:
    """ONNX Runtime must reproduce PyTorch's core on a probe segment."""
    mag, mix = _probe(model, length)
    with torch.no_grad():
        want = HybridCore(model)(mag, mix)
    got = session.run(None, {"mag": mag.numpy(), "mix": mix.numpy()})
    for ref, out in zip(want, got, strict=True):
        scale = max(1.0, float(ref.abs().max()))
        diff = float((ref - torch.from_numpy(out)).abs().max())
        if not diff <= PROBE_TOLERANCE * scale:
            raise OnnxUnavailable(f"the ONNX core differs from PyTorch by {diff:.2e}")


def load_core(
    model: torch.nn.Module,
    *,
    model_name: str,
    segment_length: int,
    folder: Path,
    device: torch.device,
    threads: int | None = None,
) -> OnnxCore:
    """The cached (or freshly exported) ONNX core of `model`, checked against PyTorch.

    A cached file that fails to load or to match is replaced by a new export once.
    Raises OnnxUnavailable when ONNX Runtime cannot run this model here."""
    HybridCore(model)  # refuses non-hybrid models before any work
    providers = providers_for(device)
    length = core_length(model, segment_length)
    path = cache_path(folder, model_name, model, length)
    model.to("cpu")  # the probe and the export run on CPU
    exported = False
    if not path.is_file():
        seconds = export_core(model, length, path)
        exported = True
        logger.info("exported the ONNX core of %s to %s in %.1f s", model_name, path, seconds)
    try:
        session = _session(path, providers, threads)
        _check(session, model, length)
    except Exception as error:
        if exported:
            raise OnnxUnavailable(f"the exported ONNX core does not run: {error}") from error
        logger.warning("replacing the cached ONNX core %s: %s", path, error)
        path.unlink(missing_ok=True)
        export_core(model, length, path)
        try:
            session = _session(path, providers, threads)
            _check(session, model, length)
        except Exception as again:
            raise OnnxUnavailable(f"the exported ONNX core does not run: {again}") from again
    model.to(device)
    return OnnxCore(model, session, length, path)


class OnnxCore:
    """Callable in place of the model in the segment loop: segments of the exported
    length go through ONNX Runtime, any other length through the PyTorch model."""

    def __init__(self, model: torch.nn.Module, session: Any, length: int, path: Path):
        # A demucs HDemucs/HTDemucs: its STFT helpers are methods torch's stubs cannot see.
        self.model: Any = model
        self.session = session
        self.length = length
        self.path = path
        self.pads = isinstance(model, HTDemucs) and model.use_train_segment
        self.segments: Counter[str] = Counter()

    def __call__(self, mix: torch.Tensor) -> torch.Tensor:
        pre_pad = mix.shape[-1]
        fits = pre_pad == self.length or (self.pads and pre_pad < self.length)
        if not fits:
            self.segments[TORCH] += mix.shape[0]
            out: torch.Tensor = self.model(mix)
            return out
        self.segments[ONNXRUNTIME] += mix.shape[0]
        model = self.model
        if pre_pad < self.length:
            mix = functional.pad(mix, (0, self.length - pre_pad))
        z = model._spec(mix)
        mag = model._magnitude(z)
        x, xt = self.session.run(None, {"mag": mag.cpu().numpy(), "mix": mix.cpu().numpy()})
        x_t, xt_t = torch.from_numpy(x).to(mix.device), torch.from_numpy(xt).to(mix.device)
        out = model._ispec(model._mask(z, x_t), self.length) + xt_t
        return out[..., :pre_pad]


def runtime_label(segments: Counter[str]) -> str:
    """Which runtime made a separation's segments: onnxruntime, torch or both."""
    if segments[ONNXRUNTIME] and segments[TORCH]:
        return MIXED
    return ONNXRUNTIME if segments[ONNXRUNTIME] else TORCH
