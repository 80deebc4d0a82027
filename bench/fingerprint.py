"""Benchmark: the ghost-track guard's lookup at catalog size.

    python bench/fingerprint.py                 # 100,000 recordings (SQLite file in var/)
    python bench/fingerprint.py --short         # 10,000 recordings
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clearmix_bench python bench/fingerprint.py

Seeds N recordings, each with a synthetic 30-second fingerprint (240 random 32-bit frames,
as fpcalc gives for 30 s of audio) and its sub-hash index rows, through the project's own
tables and migrations. Then looks up Q "uploads": a 15-second excerpt of a stored
fingerprint at a random offset with 3.5% of its bits flipped (the worst bit error rate
measured on the demo tracks' transformations), and Q fingerprints of audio that is not
in the catalog. For each it times the whole guard lookup
(catalog.ghost_tracks.fingerprint_matches: indexed query, offset votes, bit-error
alignment, the matched recording) against a floor: the indexed query alone, run raw.
Reports recall (excerpts found, as the right recording), false matches, medians and 95th
percentiles, their ratio, and last one JSON line.

Random frames spread sub-hashes more evenly than music does, so real catalogs see more
index rows per key; the ratio to the floor is the figure that carries over.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRAMES = 240  # 30 s
EXCERPT = 120  # 15 s
# Each bit of each frame flips with this probability: the worst bit error rate measured on
# the demo tracks' transformations (a 0.77 s delay, a 5.3 s trim: 0.03-0.034; MP3 0.009).
FLIP_PROBABILITY = 0.035


def _django(db_path: str | None) -> None:
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _seed(n: int, rng: np.random.Generator) -> dict[int, np.ndarray]:
    from django.db import connection, transaction

    from catalog import fingerprint as fp
    from catalog.models import FingerprintKey, Recording, RecordingFingerprint

    FingerprintKey.objects.all().delete()
    RecordingFingerprint.objects.all().delete()
    Recording.objects.filter(title__startswith="Bench fingerprint ").delete()
    prints: dict[int, np.ndarray] = {}
    batch = 2000
    keys_table = connection.ops.quote_name(FingerprintKey._meta.db_table)
    prints_table = connection.ops.quote_name(RecordingFingerprint._meta.db_table)
    placeholder = "%s"
    key_column = connection.ops.quote_name("key")
    for start in range(0, n, batch):
        with transaction.atomic():
            made = Recording.objects.bulk_create(
                Recording(title=f"Bench fingerprint {i}", mood=[])
                for i in range(start, min(n, start + batch))
            )
            rows, keys = [], []
            now = time.strftime("%Y-%m-%d %H:%M:%S")
            for recording in made:
                frames = rng.integers(0, 2**32, size=FRAMES, dtype=np.uint32)
                prints[recording.pk] = frames
                rows.append((recording.pk, fp.ALGORITHM, FRAMES, fp.frames_to_bytes(frames), now))
                keys.extend((k, recording.pk, p) for k, p in fp.index_entries(frames))
            with connection.cursor() as cursor:
                # Raw inserts: seeding speed is not what is measured.
                cursor.executemany(
                    f"INSERT INTO {prints_table} (recording_id, algorithm, frame_count, frames, "
                    f"created_at) VALUES ({', '.join([placeholder] * 5)})",
                    rows,
                )
                cursor.executemany(
                    f"INSERT INTO {keys_table} ({key_column}, recording_id, position) "
                    f"VALUES ({placeholder}, {placeholder}, {placeholder})",
                    keys,
                )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {keys_table}")
    return prints


def _excerpt(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    start = int(rng.integers(0, FRAMES - EXCERPT))
    query = frames[start : start + EXCERPT].copy()
    flips = rng.random((EXCERPT, 32)) < FLIP_PROBABILITY
    query ^= (
        (flips * (np.uint64(1) << np.arange(32, dtype=np.uint64))).sum(axis=1).astype(np.uint32)
    )
    return query


def _floor(query: np.ndarray) -> float:
    """The indexed query alone, raw: the least any index lookup can cost."""
    from django.db import connection

    from catalog import fingerprint as fp
    from catalog.models import FingerprintKey

    keys = sorted(fp.query_positions(query))
    table = connection.ops.quote_name(FingerprintKey._meta.db_table)
    key = connection.ops.quote_name("key")
    sql = (
        f"SELECT {key}, recording_id, position FROM {table} "
        f"WHERE {key} IN ({', '.join(['%s'] * len(keys))})"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, keys)
        cursor.fetchall()
    return time.perf_counter() - started


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--short", action="store_true", help="10,000 recordings, 50 queries")
    args = parser.parse_args()
    if args.short:
        args.recordings, args.queries = 10_000, 50
    rng = np.random.default_rng(20261130)
    workdir = tempfile.mkdtemp(prefix="clearmix-bench-fp-")
    try:
        _run(args, rng, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the SQLite file: 0.5 GB at 100,000


def _run(args: argparse.Namespace, rng: np.random.Generator, workdir: str) -> None:
    _django(str(Path(workdir) / "bench.sqlite3"))
    from django.db import connection

    from catalog.ghost_tracks import fingerprint_matches
    from catalog.models import FingerprintKey

    started = time.perf_counter()
    prints = _seed(args.recordings, rng)
    seed_s = time.perf_counter() - started
    index_rows = FingerprintKey.objects.count()
    ids = list(prints)
    lookups, floors, found, false_matches = [], [], 0, 0
    for _ in range(args.queries):
        target = ids[int(rng.integers(0, len(ids)))]
        query = _excerpt(prints[target], rng)
        floors.append(_floor(query))
        t0 = time.perf_counter()
        matches = fingerprint_matches(frames=query)
        lookups.append(time.perf_counter() - t0)
        found += bool(matches) and matches[0].recording.pk == target
        stranger = rng.integers(0, 2**32, size=EXCERPT, dtype=np.uint32)
        t0 = time.perf_counter()
        false_matches += len(fingerprint_matches(frames=stranger))
        lookups.append(time.perf_counter() - t0)
        floors.append(_floor(stranger))
    result = {
        "bench": "fingerprint",
        "database": connection.vendor,
        "recordings": args.recordings,
        "index_rows": index_rows,
        "queries": 2 * args.queries,
        "seed_s": round(seed_s, 1),
        "recall": round(found / args.queries, 4),
        "false_matches": false_matches,
        "lookup_ms_p50": round(statistics.median(lookups) * 1000, 2),
        "lookup_ms_p95": round(_pct(lookups, 0.95) * 1000, 2),
        "floor_ms_p50": round(statistics.median(floors) * 1000, 2),
        "floor_ms_p95": round(_pct(floors, 0.95) * 1000, 2),
    }
    result["lookup_over_floor_p50"] = round(result["lookup_ms_p50"] / result["floor_ms_p50"], 2)
    print(f"{args.recordings:,} recordings, {index_rows:,} index rows, seeded in {seed_s:.0f} s")
    print(
        f"excerpts found: {found}/{args.queries}; "
        f"matches for audio not in the catalog: {false_matches}"
    )
    print(
        f"lookup p50 {result['lookup_ms_p50']} ms, p95 {result['lookup_ms_p95']} ms; "
        f"floor (indexed query alone) p50 {result['floor_ms_p50']} ms, "
        f"p95 {result['floor_ms_p95']} ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
