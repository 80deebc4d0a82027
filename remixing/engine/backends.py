"""Separation backends behind one interface, and the choice between them.

* ``demucs``: the Demucs models (``htdemucs``, ``htdemucs_ft``, ``htdemucs_6s``, ...), only
  when their weights are installed locally (see :mod:`remixing.engine.demucs_weights`), on
  CUDA when present. ``demucs_unittest`` is built from code (untrained: tests only).
* ``embedded``: :mod:`remixing.engine.embedded`, librosa soft masks; needs no download, so
  every install can separate.

``auto`` takes Demucs when the configured model's weights are available locally, else the
embedded backend. Each result names the backend and model that made it, so the stem set,
the studio, the file tags and the audit trail can say so honestly.

Choosing never imports torch or librosa (web processes call it); running a backend does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from remixing.engine.demucs_weights import BUILTIN_MODELS, model_status

if TYPE_CHECKING:  # torch loads on first use only (see DemucsBackend._separator)
    from remixing.engine.separation import Separator

DEMUCS = "demucs"
EMBEDDED = "embedded"
BACKENDS = (DEMUCS, EMBEDDED)
Preference = Literal["auto", "demucs", "embedded"]
ProgressFn = Callable[[float], None]

# Repeated from remixing.engine.embedded so that choosing does not import librosa;
# tests check the two agree.
EMBEDDED_MODEL = "librosa-hpss-v1"


class BackendUnavailable(RuntimeError):
    """The requested backend or model cannot run on this install (readable message)."""


@dataclass(frozen=True)
class BackendChoice:
    backend: str
    model: str
    reason: str  # why this one, for logs, /healthz and the operator


@dataclass(frozen=True)
class SeparationSettings:
    """What the deployment configured (Django settings, passed in by the caller)."""

    preference: str = "auto"
    demucs_model: str = "htdemucs"
    demucs_repo: Path | None = None
    demucs_device: str = "auto"
    runtime: str = "torch"  # what runs Demucs' network: auto, torch or onnx
    demucs_segment: float | None = None  # seconds per forward pass (None: the model's)
    onnx_cache: Path | None = None  # folder of the exported ONNX networks


class SeparationBackend(Protocol):
    name: str
    model: str
    # What ran the last separation (provenance): "librosa", "torch", "onnxruntime", or
    # "onnxruntime+torch" when some segments (HDemucs' short last ones) ran in PyTorch.
    runtime: str

    @property
    def device(self) -> str: ...

    def separate(
        self, audio: np.ndarray, samplerate: int, progress: ProgressFn | None = None
    ) -> dict[str, np.ndarray]: ...


def choose(config: SeparationSettings) -> BackendChoice:
    """The backend and model that ``config`` selects on this install."""
    if config.preference not in ("auto", *BACKENDS):
        raise BackendUnavailable(
            f"SEPARATION_BACKEND must be auto, demucs or embedded, not {config.preference!r}"
        )
    if config.preference == EMBEDDED:
        return BackendChoice(EMBEDDED, EMBEDDED_MODEL, "SEPARATION_BACKEND=embedded")
    status = model_status(config.demucs_model, config.demucs_repo)
    if status.available:
        where = "built in" if not status.signatures else f"weights in {config.demucs_repo}"
        return BackendChoice(DEMUCS, config.demucs_model, f"Demucs {config.demucs_model}: {where}")
    if config.preference == DEMUCS:
        raise BackendUnavailable(_missing_weights(config))
    return BackendChoice(EMBEDDED, EMBEDDED_MODEL, _missing_weights(config))


def _missing_weights(config: SeparationSettings) -> str:
    where = config.demucs_repo or "DEMUCS_MODEL_REPO (not set)"
    return (
        f"no local weights for Demucs {config.demucs_model} in {where}; install them with "
        "`manage.py demucs_weights install --from PATH`"
    )


def availability(config: SeparationSettings) -> dict[str, Any]:
    """Which backends and models this install can use (for /healthz and staff pages)."""
    status = model_status(config.demucs_model, config.demucs_repo)
    try:
        chosen = choose(config)
        selected: dict[str, str | None] = {
            "backend": chosen.backend,
            "model": chosen.model,
            "reason": chosen.reason,
        }
    except BackendUnavailable as error:
        selected = {"backend": None, "model": None, "reason": str(error)}
    return {
        "setting": config.preference,
        "selected": selected,
        "backends": {
            EMBEDDED: {"available": True, "models": [EMBEDDED_MODEL]},
            DEMUCS: {
                "available": status.available,
                "model": config.demucs_model,
                "repo": str(config.demucs_repo) if config.demucs_repo else None,
                "missing": list(status.missing),
                "device": config.demucs_device,
                "runtime": config.runtime,
            },
        },
    }


class EmbeddedBackend:
    name = EMBEDDED
    model = EMBEDDED_MODEL
    device = "cpu"
    runtime = "librosa"

    def separate(
        self, audio: np.ndarray, samplerate: int, progress: ProgressFn | None = None
    ) -> dict[str, np.ndarray]:
        # Imported on first use: librosa (and numba's JIT) costs seconds of start-up that
        # web processes, which only choose backends, should never pay.
        from remixing.engine import embedded

        try:
            return embedded.separate_embedded(audio, samplerate, progress)
        except embedded.EmbeddedSeparationError as error:
            raise BackendUnavailable(str(error)) from None


class DemucsBackend:
    name = DEMUCS

    def __init__(
        self,
        *,
        model: str,
        repo: Path | None,
        device: str = "auto",
        runtime: str = "torch",
        onnx_cache: Path | None = None,
        segment: float | None = None,
    ):
        self.model = model
        # Built-in models ignore the folder; a missing folder must not stop them.
        self.repo = None if model in BUILTIN_MODELS else repo
        self.requested_device = device
        self.requested_runtime = runtime
        self.onnx_cache = onnx_cache
        self.segment = segment
        self.runtime = ""  # known after a separation

    def _separator(self) -> Separator:
        # torch loads on first use only: web processes and the prefork parent never import
        # it (start-up cost, and no CUDA state to inherit across fork).
        from remixing.engine import separation

        return separation.get_separator(
            separation.SeparatorConfig(
                model_name=self.model,
                model_repo=self.repo,
                device=self.requested_device,  # type: ignore[arg-type]
                runtime=self.requested_runtime,  # type: ignore[arg-type]
                onnx_cache=self.onnx_cache,
                segment=self.segment,
            )
        )

    @property
    def is_loaded(self) -> bool:
        return bool(self._separator().is_loaded)

    @property
    def device(self) -> str:
        return str(self._separator().device)

    def separate(
        self, audio: np.ndarray, samplerate: int, progress: ProgressFn | None = None
    ) -> dict[str, np.ndarray]:
        from remixing.engine.batched_separation import SeparationError

        try:
            separator = self._separator()
            stems = separator.separate(audio, samplerate, progress)
        except (SeparationError, ValueError) as error:
            raise BackendUnavailable(str(error)) from None
        self.runtime = separator.last_runtime or ""
        return stems


def backend_for(backend: str, model: str, config: SeparationSettings) -> SeparationBackend:
    """The backend that makes stems named (``backend``, ``model``); refuses Demucs models
    whose weights are not installed locally (never downloads)."""
    if backend == EMBEDDED:
        if model != EMBEDDED_MODEL:
            raise BackendUnavailable(f"the embedded backend has no model {model!r}")
        return EmbeddedBackend()
    if backend == DEMUCS:
        status = model_status(model, config.demucs_repo)
        if not status.available:
            raise BackendUnavailable(
                _missing_weights(
                    SeparationSettings(demucs_model=model, demucs_repo=config.demucs_repo)
                )
            )
        return DemucsBackend(
            model=model,
            repo=config.demucs_repo,
            device=config.demucs_device,
            runtime=config.runtime,
            onnx_cache=config.onnx_cache,
            segment=config.demucs_segment,
        )
    raise BackendUnavailable(f"unknown separation backend {backend!r}")
