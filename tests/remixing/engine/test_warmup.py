"""The numba warm-up covers every kernel the engine's librosa paths compile.

A kernel left out would be compiled later by several pool processes at once, the race
that corrupted the cache and crashed a test worker with SIGSEGV in beat tracking
(numba issue #10128). So: warm an empty cache in one process, then run real engine work
(another rate, length and signal) in a second process, and require that it compiled
nothing new.
"""

import subprocess
import sys
from pathlib import Path

WARM = "from remixing.engine.warmup import numba_cache_warm; numba_cache_warm()"

REAL_WORK = """
import numpy as np
from remixing.engine.embedded import separate_embedded
from remixing.engine.structure import analyse_structure
sr = 44100
rng = np.random.default_rng(7)
t = np.arange(sr * 11) / sr
mono = (0.3 * np.sin(2 * np.pi * 110 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
mono[:: sr // 3] += 0.8
separate_embedded(np.stack([mono, mono * 0.5]), sr)
analyse_structure(mono, sr)
from remixing.engine.mastering import normalise_loudness
normalise_loudness(np.stack([mono, mono * 0.5]) * 3, sr)
"""


def _run(code: str, cache: Path) -> None:
    env = {"NUMBA_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], env=env, cwd=root, check=True, timeout=600)


def _cached(cache: Path) -> set[str]:
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*.nbc")}


def test_warmup_compiles_beat_tracking_kernels_and_leaves_nothing_to_compile(tmp_path):
    cache = tmp_path / "numba"
    _run(WARM, cache)
    warmed = _cached(cache)
    assert any("guf-utils._localmax" in name for name in warmed), sorted(warmed)

    _run(REAL_WORK, cache)

    assert _cached(cache) == warmed
