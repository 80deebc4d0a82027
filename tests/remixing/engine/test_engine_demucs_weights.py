"""Installing Demucs weights from local files, checksums as Demucs names them (offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from demucs.pretrained import demucs_unittest
from demucs.states import save_with_checksum

from remixing.engine import demucs_weights
from remixing.engine.backends import DemucsBackend
from remixing.engine.demucs_weights import WeightsError, install, installed_models, model_status

SIG = "clmxtest"  # not a published signature


def save_unittest_model(folder: Path, signature: str = SIG) -> Path:
    """A real (untrained, tiny) Demucs model package, named <sig>-<sha256 prefix>.th by
    Demucs's own save_with_checksum."""
    torch.manual_seed(0)
    model = demucs_unittest()
    args, kwargs = model._init_args_kwargs
    package = {"klass": type(model), "args": args, "kwargs": kwargs, "state": model.state_dict()}
    folder.mkdir(parents=True, exist_ok=True)
    save_with_checksum(package, folder / f"{signature}.th")
    (path,) = folder.glob(f"{signature}-*.th")
    return path


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory) -> Path:
    return save_unittest_model(tmp_path_factory.mktemp("weights"))


def test_install_a_file_then_load_and_separate_offline(weights_file, tmp_path):
    repo = tmp_path / "repo"
    assert not model_status(SIG, repo).available
    report = install(weights_file, repo)
    assert report.installed == [weights_file.name]
    status = model_status(SIG, repo)
    assert status.available and status.signatures == (SIG,)
    # Installing again is a no-op.
    assert install(weights_file, repo).unchanged == [weights_file.name]
    # The real Demucs loader (LocalRepo, which re-checks the checksum) takes it from there.
    backend = DemucsBackend(model=SIG, repo=repo, device="cpu")
    mix = np.random.default_rng(1).standard_normal((2, 22050)).astype(np.float32) * 0.1
    stems = backend.separate(mix, 44100)
    assert set(stems) == {"drums", "bass", "other", "vocals"}
    assert all(s.shape == mix.shape and np.all(np.isfinite(s)) for s in stems.values())


def test_a_corrupted_file_is_refused_and_nothing_is_installed(weights_file, tmp_path):
    corrupt = tmp_path / "src" / weights_file.name
    corrupt.parent.mkdir()
    data = bytearray(weights_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="checksum mismatch"):
        install(corrupt, tmp_path / "repo")
    assert not (tmp_path / "repo").exists()


def test_a_folder_with_a_model_list(weights_file, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / weights_file.name).write_bytes(weights_file.read_bytes())
    (source / "mybag.yaml").write_text(f"models: ['{SIG}']\n")
    repo = tmp_path / "repo"
    report = install(source, repo)
    assert sorted(report.installed) == sorted([weights_file.name, "mybag.yaml"])
    names = {status.name: status for status in installed_models(repo)}
    assert names["mybag"].available and names["mybag"].signatures == (SIG,)
    assert SIG not in names  # listed under its bag, not twice
    assert [problem for _name, problem in demucs_weights.check_repo(repo)] == [None]


def test_names_that_cannot_be_verified(tmp_path):
    unnamed = tmp_path / "model.th"
    unnamed.write_bytes(b"x")
    with pytest.raises(WeightsError, match="no checksum"):
        install(unnamed, tmp_path / "repo")
    # A published signature must carry its published checksum.
    fake = tmp_path / "955717e8-00000000.th"
    fake.write_bytes(b"x")
    with pytest.raises(WeightsError, match=r"955717e8-8726e21a\.th"):
        install(fake, tmp_path / "repo")
    with pytest.raises(WeightsError, match="does not exist"):
        install(tmp_path / "nowhere", tmp_path / "repo")


def test_published_names_come_from_the_demucs_package():
    published = demucs_weights.published_files()
    assert published["955717e8"] == "955717e8-8726e21a.th"  # htdemucs
    assert model_status("demucs_unittest", None).available  # built from code
    assert not model_status("htdemucs", None).available  # never downloaded
