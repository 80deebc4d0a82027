"""Fixtures for the pure audio engine tests.

These tests need no database and no Django: run them with
``.venv/bin/python -m pytest tests/remixing/engine -p no:django`` (they also pass with
pytest-django active, since nothing here touches settings or the ORM).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

# Make ``remixing.engine`` importable however pytest is invoked (plain ``pytest`` does not
# put the repository root on sys.path under the default import mode).
_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

SR = 44100


def pytest_configure(config: pytest.Config) -> None:
    # demucs/torch emit noisy UserWarnings for the untrained unit-test models.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(demucs|torch)\..*")
    # One intra-op thread: these tests check numbers, not speed, and on a shared CI box an
    # OpenMP team whose second thread is descheduled stalls at every barrier (we saw the
    # same separation test take 0.5 s or 20 s depending on background load).
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def sr() -> int:
    return SR


@pytest.fixture(scope="session")
def song() -> dict[str, np.ndarray]:
    """A 20 s synthesised song (stems + mix), shared read-only by the whole session."""
    from remixing.engine.synth import synth_track

    stems = synth_track(seed=7, bpm=120, key="A minor", duration_s=20, samplerate=SR)
    for audio in stems.values():
        audio.setflags(write=False)
    return stems


@pytest.fixture(scope="session")
def short_stems(song: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """6 s of the four stems (bars 2-5: drums, bass, pad and vocals all playing)."""
    start = 4 * SR
    return {
        name: song[name][:, start : start + 6 * SR] for name in ("drums", "bass", "other", "vocals")
    }


def sine(freq: float, seconds: float, *, amplitude: float = 0.5, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    mono = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(mono[np.newaxis, :], channels, axis=0)


@pytest.fixture
def make_sine():
    return sine


@pytest.fixture
def tags() -> dict[str, object]:
    return {
        "remixer": "DJ Tester",
        "original_title": "Night Drive",
        "original_artists": ["The Originals", "Guest Singer"],
        "songwriters": ["Ann Writer", "Bo Composer"],
        "isrc": "USABC2600042",
        "iswc": "T-345.246.800-1",
        "remix_id": "rmx_01HTEST",
    }
