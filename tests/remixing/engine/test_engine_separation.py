"""Separation through the real Demucs code path (untrained unit-test models, offline)."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import numpy as np
import pytest
import torch

from remixing.engine import separation
from remixing.engine.batched_separation import SeparationError
from remixing.engine.separation import (
    Separator,
    SeparatorConfig,
    get_separator,
    model_stems,
    separate_with_demucs_api,
)

SR = 44100
FOUR = ("drums", "bass", "other", "vocals")
TOLERANCE = 1e-4
# demucs_unittest's own segment is 40 s; 1 s segments make a 2.6 s clip span four
# overlapping chunks, two of them short tails, so batching and tail handling are exercised.
UNIT = SeparatorConfig(
    model_name="demucs_unittest", device="cpu", segment=1.0, batch_size=3, cpu_batch_size=3
)


@pytest.fixture(scope="module")
def clip(song) -> np.ndarray:
    return np.ascontiguousarray(song["mix"][:, 5 * SR : int(7.6 * SR)])


def max_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def tiny_htdemucs(seed: int = 0):
    """An untrained HTDemucs small enough for CI; it has a fixed 1 s training length."""
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    return HTDemucs(
        sources=list(FOUR), channels=4, depth=4, t_layers=1, t_heads=1, dconv_comp=1,
        nfft=2048, segment=1,
    ).eval()  # fmt: skip


def test_model_stems_without_loading(monkeypatch):
    def boom(config):
        raise AssertionError("must not load")

    monkeypatch.setattr(separation, "load_demucs_model", boom)
    assert model_stems("htdemucs") == FOUR
    assert model_stems("htdemucs_ft") == FOUR
    assert model_stems("htdemucs_6s") == (*FOUR, "guitar", "piano")
    assert get_separator(SeparatorConfig(model_name="htdemucs_6s")).sources[-2:] == (
        "guitar",
        "piano",
    )


def test_config_validation():
    for bad in (
        {"overlap": 1.0},
        {"batch_size": 0},
        {"shifts": -1},
        {"device": "tpu"},
        {"segment": 0},
    ):
        with pytest.raises(ValueError):
            SeparatorConfig(**bad)
    assert hash(SeparatorConfig()) == hash(SeparatorConfig())


def test_separator_is_cached_lazy_and_loads_once(monkeypatch, clip):
    loads = []
    real = separation.load_demucs_model
    monkeypatch.setattr(separation, "load_demucs_model", lambda c: loads.append(c) or real(c))
    config = SeparatorConfig(model_name="demucs_unittest", device="cpu", segment=2.0)
    separator = get_separator(config)
    assert get_separator(config) is separator
    assert not separator.is_loaded and loads == []  # nothing loaded until first use
    separator.separate(clip[:, : SR // 2], SR)
    get_separator(config).separate(clip[:, : SR // 2], SR)
    assert len(loads) == 1 and separator.load_count == 1 and separator.is_loaded
    assert separator.device == torch.device("cpu")


def test_separate_shapes_stems_and_progress(clip):
    progress: list[float] = []
    stems = get_separator(UNIT).separate(clip, SR, progress.append)
    assert tuple(stems) == FOUR
    for audio in stems.values():
        assert audio.shape == clip.shape and audio.dtype == np.float32
        assert np.all(np.isfinite(audio))
    assert progress[-1] == 1.0 and progress.count(1.0) == 1
    assert all(a < b for a, b in itertools.pairwise(progress))
    assert len(progress) >= 3  # 4 chunks in batches of 3 -> 2 updates, then 1.0


def test_batched_matches_stock_demucs_api(clip):
    progress: list[float] = []
    ours = get_separator(UNIT).separate(clip, SR)
    stock = separate_with_demucs_api(clip, SR, progress.append, config=UNIT)
    assert max_diff(ours, stock) < TOLERANCE
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_resampling_and_mono_input(clip):
    mono_48k = np.ascontiguousarray(clip[0, : 2 * 48000])
    ours = get_separator(UNIT).separate(mono_48k, 48000)
    assert all(a.shape == (1, mono_48k.size) for a in ours.values())
    stock = separate_with_demucs_api(mono_48k, 48000, config=UNIT)
    assert max_diff(ours, stock) < TOLERANCE
    at_44k = get_separator(UNIT).separate(mono_48k, 48000, output_samplerate=SR)
    assert at_44k["drums"].shape == (1, 2 * SR)


def test_shift_trick_matches_stock_with_same_seed(clip):
    config = SeparatorConfig(
        model_name="demucs_unittest", device="cpu", segment=1.0, shifts=1, cpu_batch_size=2
    )
    short = clip[:, : int(1.6 * SR)]
    random.seed(1234)
    ours = get_separator(config).separate(short, SR)
    random.seed(1234)
    stock = separate_with_demucs_api(short, SR, config=config)
    assert max_diff(ours, stock) < TOLERANCE


def test_htdemucs_fixed_length_padding_matches_stock(clip):
    """HTDemucs pads every chunk to its training length (tails with real context)."""
    config = SeparatorConfig(
        model_name="tiny-htdemucs", device="cpu", cpu_batch_size=4, overlap=0.25
    )
    separator = Separator(config, model=tiny_htdemucs())
    audio = clip[:, : int(2.3 * SR)]  # 1 s segments, stride 0.75 s: 4 chunks, 2 short
    ours = separator.separate(audio, SR)
    stock = separate_with_demucs_api(audio, SR, separator=separator)
    assert max_diff(ours, stock) < TOLERANCE
    assert separator.sources == FOUR and separator.load_count == 0  # injected, not loaded
    with pytest.raises(SeparationError, match="training segment"):
        Separator(SeparatorConfig(segment=2.0), model=tiny_htdemucs()).separate(audio, SR)


def test_bag_of_models_matches_stock(clip):
    from demucs.apply import BagOfModels

    weights = [[1.0, 0.0, 1.0, 0.5], [0.0, 1.0, 1.0, 1.0]]  # per-model, per-source
    bag = BagOfModels([tiny_htdemucs(1), tiny_htdemucs(2)], weights).eval()
    separator = Separator(
        SeparatorConfig(model_name="tiny-bag", device="cpu", cpu_batch_size=2), model=bag
    )
    audio = clip[:, : int(1.8 * SR)]
    progress: list[float] = []
    ours = separator.separate(audio, SR, progress.append)
    stock = separate_with_demucs_api(audio, SR, separator=separator)
    assert max_diff(ours, stock) < TOLERANCE
    assert progress[-1] == 1.0 and progress == sorted(progress) and len(progress) >= 3


def test_stock_method_via_config(clip):
    config = SeparatorConfig(
        model_name="demucs_unittest", device="cpu", segment=1.0, method="stock"
    )
    short = clip[:, :SR]
    progress: list[float] = []
    stock_separator = get_separator(config)
    stock = stock_separator.separate(short, SR, progress.append)
    # demucs_unittest is randomly initialised on every load: compare on the same weights.
    batched = Separator(replace(config, method="batched"), model=stock_separator.model)
    assert max_diff(stock, batched.separate(short, SR)) < TOLERANCE
    assert progress[-1] == 1.0


def test_bad_input_is_a_separation_error():
    separator = get_separator(UNIT)
    with pytest.raises(SeparationError, match="NaN"):
        separator.separate(np.full((2, 1000), np.nan, dtype=np.float32), SR)
    with pytest.raises(SeparationError, match="non-empty"):
        separator.separate(np.zeros((2, 0), dtype=np.float32), SR)
    with pytest.raises(SeparationError):
        separator.separate(np.zeros((2, 3, 100), dtype=np.float32), SR)


def test_model_loading_errors_are_readable(tmp_path):
    missing = SeparatorConfig(model_name="htdemucs", model_repo=tmp_path / "nope", device="cpu")
    with pytest.raises(SeparationError, match="does not exist"):
        _ = Separator(missing).model
    empty_repo = SeparatorConfig(model_name="htdemucs", model_repo=tmp_path, device="cpu")
    with pytest.raises(SeparationError, match="could not load Demucs model 'htdemucs'"):
        _ = Separator(empty_repo).model


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_gpu_is_an_error():
    with pytest.raises(SeparationError, match="no CUDA GPU"):
        _ = Separator(SeparatorConfig(model_name="demucs_unittest", device="cuda")).device
    assert Separator(SeparatorConfig(device="auto")).device == torch.device("cpu")


def test_release_and_fork_reset(monkeypatch):
    config = SeparatorConfig(model_name="demucs_unittest", device="cpu", segment=1.0)
    separator = get_separator(config)
    _ = separator.model
    separation.release()  # no GPU: must simply not fail
    assert separator.is_loaded
    separator.release(unload=True)
    assert not separator.is_loaded
    before = separation.cached_separators()
    separation._reset_after_fork()  # what a forked child runs
    assert separation.cached_separators() == []
    assert get_separator(config) is not separator
    assert before
