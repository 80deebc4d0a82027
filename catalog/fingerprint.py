"""Acoustic fingerprints (Chromaprint) and how two of them are compared. No Django.

A Chromaprint "raw" fingerprint is one 32-bit integer per frame of about 0.124 s (each bit
says whether one of 16 chroma features rose or fell). Two recordings of the same audio
(re-encoded, trimmed, louder or quieter, resampled, delayed) give frames that agree in
almost every bit once aligned; unrelated audio agrees in about half of them.

The guard works in two steps so it stays fast over a large catalog:

1. **Candidates by sub-hashes.** Every ``INDEX_STEP``-th frame of each stored fingerprint is
   indexed by its top ``KEY_BITS`` bits (the low bits are the ones that flip first under
   re-encoding). A query looks up the sub-hashes of *all* its frames, so a stored frame is
   found whatever the query's offset. Each hit votes for (recording, frame offset).
2. **Bit-error-rate alignment.** For the best-voted candidates, the two fingerprints are
   compared at the voted offsets (and neighbours): the bit error rate over the overlap, and
   the share of the query's frames that match (few bit errors) is the evidence shown to
   staff ("94% of the fingerprint").
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ALGORITHM = 2  # fpcalc's default (Chromaprint's TEST2)
FRAME_S = 4096 / 3 / 11025  # Chromaprint's hop: a third of a 4096-sample frame at 11025 Hz
KEY_BITS = 20
INDEX_STEP = 4  # index every 4th stored frame (the query side looks up all of its frames)
MAX_SECONDS = 600  # fingerprint at most the first 10 minutes
# A frame "matches" when at most this many of its 32 bits differ.
FRAME_BITS_MAX = 8
# Decision rule, from the demo tracks: the same audio transformed (MP3, trimmed, gain,
# resampled, shifted) shows BER <= 0.04 and >= 97% matching frames; different tracks made
# by the same synthesiser BER >= 0.29 and <= 36% matching frames.
MATCH_BER_MAX = 0.2
MATCH_COVERAGE_MIN = 0.5
MIN_OVERLAP_FRAMES = 40  # about 5 seconds


class FingerprintError(RuntimeError):
    """fpcalc is missing or could not read the audio."""


def _popcount_table() -> np.ndarray:
    return np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


_POPCOUNT = _popcount_table()


def bit_errors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Differing bits per frame of two equally long uint32 arrays."""
    x = np.bitwise_xor(a, b)
    return (
        _POPCOUNT[x & 0xFF]
        + _POPCOUNT[(x >> 8) & 0xFF]
        + _POPCOUNT[(x >> 16) & 0xFF]
        + _POPCOUNT[x >> 24]
    ).astype(np.int32)


def fingerprint_file(
    path: str | Path, *, fpcalc: str = "fpcalc", timeout_s: float = 120
) -> np.ndarray:
    """The raw Chromaprint fingerprint of an audio file (uint32 frames); empty when the
    audio is too short to fingerprint."""
    command = [fpcalc, "-raw", "-json", "-length", str(MAX_SECONDS), str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except FileNotFoundError:
        raise FingerprintError(
            "fpcalc is not installed (apt-get install libchromaprint-tools)."
        ) from None
    except subprocess.TimeoutExpired:
        raise FingerprintError("fpcalc took too long on this audio.") from None
    # fpcalc 1.5 with FFmpeg 5 exits 3 after reading to the end of the file ("Error decoding
    # audio frame (End of file)") although the fingerprint is complete; any other failure
    # leaves stdout without one.
    try:
        frames = json.loads(done.stdout or "{}").get("fingerprint") or []
    except json.JSONDecodeError:
        frames = []
    if not frames and "Empty fingerprint" in (done.stderr or ""):
        # Audio too short for Chromaprint (under about 2.5 s): nothing to compare.
        return np.zeros(0, dtype=np.uint32)
    if not frames:
        detail = (done.stderr or "").strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise FingerprintError(f"Could not fingerprint the audio: {detail[0]}")
    return np.asarray(frames, dtype=np.uint32)


def frames_to_bytes(frames: np.ndarray) -> bytes:
    return np.asarray(frames, dtype="<u4").tobytes()


def frames_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<u4").astype(np.uint32)


def sub_hash(frames: np.ndarray) -> np.ndarray:
    """The indexed part of each frame: its top KEY_BITS bits (a non-negative int32)."""
    return (np.asarray(frames, dtype=np.uint32) >> (32 - KEY_BITS)).astype(np.int64)


def index_entries(frames: np.ndarray) -> list[tuple[int, int]]:
    """``(sub_hash, position)`` rows to store for one recording, duplicates dropped."""
    keys = sub_hash(frames)
    seen: set[tuple[int, int]] = set()
    rows = []
    for position in range(0, len(keys), INDEX_STEP):
        row = (int(keys[position]), position)
        if row not in seen:
            seen.add(row)
            rows.append(row)
    return rows


def query_positions(frames: np.ndarray) -> dict[int, list[int]]:
    """Every sub-hash of a query with the frame positions where it occurs."""
    positions: dict[int, list[int]] = {}
    for position, key in enumerate(sub_hash(frames).tolist()):
        positions.setdefault(key, []).append(position)
    return positions


def offset_votes(
    query: Mapping[int, Sequence[int]], hits: Iterable[tuple[int, int, int]]
) -> Counter:
    """Votes per ``(recording_id, offset)`` from index hits ``(key, recording_id, position)``.

    ``offset`` is where the query's first frame falls in the stored fingerprint."""
    votes: Counter = Counter()
    for key, recording_id, position in hits:
        for query_position in query.get(key, ()):
            votes[(recording_id, position - query_position)] += 1
    return votes


@dataclass(frozen=True)
class Alignment:
    offset: int  # frames; where the query's first frame falls in the reference
    bit_error_rate: float  # over the overlap
    coverage: float  # share of the query's frames that match the reference

    @property
    def offset_s(self) -> float:
        return round(self.offset * FRAME_S, 2)

    @property
    def is_match(self) -> bool:
        return self.bit_error_rate <= MATCH_BER_MAX and self.coverage >= MATCH_COVERAGE_MIN


def _min_overlap(query: np.ndarray, reference: np.ndarray) -> int:
    # A short query (an excerpt) must overlap wholly; otherwise at least half the shorter.
    return min(
        len(query), len(reference), max(MIN_OVERLAP_FRAMES, min(len(query), len(reference)) // 2)
    )


def align_at(query: np.ndarray, reference: np.ndarray, offset: int) -> Alignment | None:
    q_start, r_start = max(0, -offset), max(0, offset)
    n = min(len(query) - q_start, len(reference) - r_start)
    if n <= 0 or n < _min_overlap(query, reference):
        return None
    errors = bit_errors(query[q_start : q_start + n], reference[r_start : r_start + n])
    return Alignment(
        offset=offset,
        bit_error_rate=round(float(errors.mean()) / 32, 4),
        coverage=round(float((errors <= FRAME_BITS_MAX).sum()) / len(query), 4),
    )


def align(
    query: np.ndarray, reference: np.ndarray, offsets: Iterable[int] | None = None
) -> Alignment | None:
    """The best alignment (lowest bit error rate) at ``offsets`` (each +-2 frames, since a
    sub-frame shift can move the vote by one), or over every offset when none are given."""
    if offsets is None:
        candidates: Iterable[int] = range(-len(query) + 1, len(reference))
    else:
        candidates = sorted({o + d for o in offsets for d in (-2, -1, 0, 1, 2)})
    best: Alignment | None = None
    for offset in candidates:
        found = align_at(query, reference, offset)
        if found is not None and (best is None or found.bit_error_rate < best.bit_error_rate):
            best = found
    return best
