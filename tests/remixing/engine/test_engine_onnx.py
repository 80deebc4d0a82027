"""The ONNX Runtime path of Demucs separation (remixing.engine.onnx_runner) against PyTorch.

demucs_unittest (an HDemucs, 0.6M parameters) with 1 s segments over 3 s of music: its
full-length segments run in ONNX Runtime, its shorter last ones in PyTorch (HDemucs takes
any length; the core is exported for one). A tiny HTDemucs pads every segment to its
training length, so all of its segments run in ONNX Runtime.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from remixing.engine import onnx_runner
from remixing.engine.separation import Separator, SeparatorConfig, load_demucs_model

from .test_engine_separation import tiny_htdemucs

SR = 44100
# Stated tolerance for "the same stems": ONNX Runtime vs PyTorch, max abs difference on
# stems of music at about -12 dBFS (measured: ~2e-6).
TOLERANCE = 1e-3
UNIT = SeparatorConfig(model_name="demucs_unittest", device="cpu", segment=1.0)


@pytest.fixture(scope="module")
def clip(song) -> np.ndarray:
    return np.ascontiguousarray(song["mix"][:, 5 * SR : 8 * SR])


@pytest.fixture(scope="module")
def unit_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return load_demucs_model(UNIT)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def torch_stems(unit_model, clip) -> dict[str, np.ndarray]:
    separator = Separator(UNIT, model=unit_model)
    stems = separator.separate(clip, SR)
    assert separator.last_runtime == "torch" and separator.onnx_cores() == {}
    return stems


def onnx_separator(model, cache, **changes) -> Separator:
    return Separator(replace(UNIT, runtime="onnx", onnx_cache=cache, **changes), model=model)


def max_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def reconstruction_error(stems: dict[str, np.ndarray], mix: np.ndarray) -> float:
    return float(np.max(np.abs(sum(stems.values()) - mix)))


def test_onnx_runtime_separates_like_pytorch(unit_model, clip, cache, torch_stems, caplog):
    separator = onnx_separator(unit_model, cache)
    with caplog.at_level(logging.INFO, logger="remixing.engine.onnx_runner"):
        stems = separator.separate(clip, SR)
    assert "exported the ONNX core of demucs_unittest" in caplog.text
    assert max_diff(stems, torch_stems) < TOLERANCE
    # The (untrained) model's stems sum back to the mix exactly as well as PyTorch's do.
    assert abs(reconstruction_error(stems, clip) - reconstruction_error(torch_stems, clip)) < 1e-4
    (core,) = separator.onnx_cores().values()
    # 3 s in 1 s segments with 0.25 s overlap: offsets 0, .75, 1.5, 2.25 (full) and the
    # short tail at 3.0 s... which PyTorch runs; provenance says both ran.
    assert core.segments["onnxruntime"] >= 3 and core.segments["torch"] >= 1
    assert separator.last_runtime == "onnxruntime+torch"
    assert core.path.parent == cache and core.path.name.startswith("demucs_unittest-HDemucs-")
    assert f"ort{onnx_runner.import_onnxruntime().__version__}" in core.path.name
    assert [p.name for p in cache.iterdir()] == [core.path.name]  # no temporary file left


def test_htdemucs_segments_all_run_in_onnx_runtime(clip, tmp_path):
    model = tiny_htdemucs()
    config = SeparatorConfig(model_name="tiny_htdemucs", device="cpu", segment=1.0)
    want = Separator(config, model=model).separate(clip, SR)
    separator = Separator(replace(config, runtime="onnx", onnx_cache=tmp_path), model=model)
    got = separator.separate(clip, SR)
    assert max_diff(got, want) < TOLERANCE
    assert separator.last_runtime == "onnxruntime"  # every segment, the short tail included


def test_cached_core_is_reused_without_export(unit_model, clip, tmp_path, torch_stems, caplog):
    cache = tmp_path  # its own folder: what is in it was put there by this test
    onnx_separator(unit_model, cache).separate(clip, SR)  # exported
    (path,) = cache.iterdir()
    stamp = path.stat().st_mtime_ns
    separator = onnx_separator(unit_model, cache)  # a new worker process would do this
    caplog.clear()  # the export above may have been captured (the logger's level varies)
    with caplog.at_level(logging.INFO, logger="remixing.engine.onnx_runner"):
        stems = separator.separate(clip, SR)
    assert "exported" not in caplog.text and "replacing" not in caplog.text
    assert path.stat().st_mtime_ns == stamp
    assert separator.last_runtime == "onnxruntime+torch"
    assert max_diff(stems, torch_stems) < TOLERANCE


def test_corrupt_cached_core_is_replaced(unit_model, clip, cache, torch_stems, caplog):
    onnx_separator(unit_model, cache).separate(clip[:, :SR], SR)
    (path,) = cache.iterdir()
    path.write_bytes(b"half-written garbage")
    separator = onnx_separator(unit_model, cache)
    with caplog.at_level(logging.INFO, logger="remixing.engine.onnx_runner"):
        stems = separator.separate(clip, SR)
    assert "replacing the cached ONNX core" in caplog.text
    assert path.stat().st_size > 10_000
    assert separator.last_runtime == "onnxruntime+torch"
    assert max_diff(stems, torch_stems) < TOLERANCE


def test_cache_key_follows_the_weights_and_versions(unit_model, tmp_path):
    import copy

    first = onnx_runner.cache_path(tmp_path, "demucs_unittest", unit_model, 44100)
    assert first == onnx_runner.cache_path(tmp_path, "demucs_unittest", unit_model, 44100)
    changed = copy.deepcopy(unit_model)
    with torch.no_grad():
        next(changed.parameters()).add_(1e-3)
    assert onnx_runner.cache_path(tmp_path, "demucs_unittest", changed, 44100) != first
    assert onnx_runner.cache_path(tmp_path, "demucs_unittest", unit_model, 22050) != first
    assert f"torch{torch.__version__}".replace("+", "_") in first.name


def test_without_onnxruntime_it_falls_back_to_pytorch(
    unit_model, clip, tmp_path, torch_stems, monkeypatch, caplog
):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` fails
    assert not onnx_runner.onnxruntime_available()
    auto = Separator(replace(UNIT, runtime="auto", onnx_cache=tmp_path), model=unit_model)
    assert not auto.wants_onnx()
    separator = onnx_separator(unit_model, tmp_path)
    with caplog.at_level(logging.WARNING):
        stems = separator.separate(clip, SR)
    assert "ONNX Runtime is not used (onnxruntime cannot be imported" in caplog.text
    assert separator.last_runtime == "torch"
    assert "onnxruntime cannot be imported" in separator.runtime_note
    assert max_diff(stems, torch_stems) == 0.0
    assert not os.listdir(tmp_path)


def test_auto_takes_onnx_runtime_on_cpu_only(unit_model):
    assert Separator(replace(UNIT, runtime="auto"), model=unit_model).wants_onnx()
    assert not Separator(replace(UNIT, runtime="torch"), model=unit_model).wants_onnx()
    stock = replace(UNIT, runtime="onnx", method="stock")
    assert not Separator(stock, model=unit_model).wants_onnx()
    with pytest.raises(ValueError, match="runtime"):
        SeparatorConfig(runtime="tensorrt")  # type: ignore[arg-type]
