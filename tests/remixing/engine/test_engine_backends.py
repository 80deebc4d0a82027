"""Choosing a separation backend, with and without Demucs weights installed (offline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from remixing.engine import backends
from remixing.engine.backends import (
    DEMUCS,
    EMBEDDED,
    EMBEDDED_MODEL,
    BackendUnavailable,
    SeparationSettings,
    backend_for,
    choose,
)


def fake_htdemucs_repo(folder: Path) -> Path:
    # Choosing looks at names only (loading checks the bytes), so a placeholder file
    # with the published name stands in for the 80 MB network here.
    folder.mkdir(parents=True)
    (folder / "955717e8-8726e21a.th").write_bytes(b"placeholder")
    (folder / "htdemucs.yaml").write_text("models: ['955717e8']\n")
    return folder


def test_auto_without_weights_takes_the_embedded_backend(tmp_path):
    for repo in (None, tmp_path / "empty"):
        choice = choose(SeparationSettings(demucs_model="htdemucs", demucs_repo=repo))
        assert (choice.backend, choice.model) == (EMBEDDED, EMBEDDED_MODEL)
        assert "demucs_weights install" in choice.reason


def test_auto_with_weights_takes_demucs(tmp_path):
    repo = fake_htdemucs_repo(tmp_path / "repo")
    choice = choose(SeparationSettings(demucs_model="htdemucs", demucs_repo=repo))
    assert (choice.backend, choice.model) == (DEMUCS, "htdemucs")
    # A bag whose network is missing is not available.
    (repo / "955717e8-8726e21a.th").unlink()
    assert choose(SeparationSettings(demucs_repo=repo)).backend == EMBEDDED
    # demucs_unittest is built from code: always available (tests use it).
    assert choose(SeparationSettings(demucs_model="demucs_unittest")).backend == DEMUCS


def test_explicit_preferences(tmp_path):
    assert choose(SeparationSettings(preference="embedded")).backend == EMBEDDED
    with pytest.raises(BackendUnavailable, match="no local weights for Demucs htdemucs"):
        choose(SeparationSettings(preference="demucs"))
    with pytest.raises(BackendUnavailable):
        choose(SeparationSettings(preference="spleeter"))
    with pytest.raises(BackendUnavailable, match="no local weights"):
        backend_for(DEMUCS, "htdemucs", SeparationSettings())  # never downloads
    with pytest.raises(BackendUnavailable):
        backend_for(EMBEDDED, "htdemucs", SeparationSettings())


def test_availability_report(tmp_path):
    report = backends.availability(SeparationSettings(demucs_repo=tmp_path))
    assert report["selected"]["backend"] == EMBEDDED
    assert report["backends"][EMBEDDED]["available"] is True
    assert (
        report["backends"][DEMUCS] | {"available": False, "missing": ["htdemucs"]}
        == (report["backends"][DEMUCS])
    )


def test_each_backend_separates_a_short_mix(short_stems):
    mix = sum(short_stems.values())[:, : 3 * 44100]
    for backend in (
        backend_for(EMBEDDED, EMBEDDED_MODEL, SeparationSettings()),
        backend_for(DEMUCS, "demucs_unittest", SeparationSettings(demucs_device="cpu")),
    ):
        stems = backend.separate(mix, 44100)
        assert set(stems) == {"drums", "bass", "other", "vocals"}, backend.name
        assert all(s.shape == mix.shape for s in stems.values())
        assert backend.device == "cpu"
        # What ran it, for the stem set's provenance (SeparationSettings' runtime: torch).
        assert backend.runtime == ("librosa" if backend.name == EMBEDDED else "torch")
        if backend.name == EMBEDDED:
            assert np.max(np.abs(sum(stems.values()) - mix)) < 1e-5


def test_choosing_imports_neither_torch_nor_librosa():
    # Web processes and /healthz choose backends; they must not pay for either library.
    code = (
        "import sys; from remixing.engine import backends; "
        "backends.availability(backends.SeparationSettings()); "
        "print('torch' in sys.modules, 'librosa' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
