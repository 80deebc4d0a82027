"""Reads for the ghost-track guard: fingerprint lookups, who holds a recording, flags.

(Kept apart from catalog.selectors so the guard's reads are found in one place; every
write is in catalog.services.ghost_tracks.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db.models import QuerySet

from . import fingerprint as fp
from .models import (
    FingerprintKey,
    GhostTrackFlag,
    Party,
    Recording,
    RecordingArtist,
    RecordingFingerprint,
    SplitShare,
    SplitVersion,
)
from .selectors import party_list_owned

# How many recordings (best-voted first) are aligned bit by bit, and the votes they need.
CANDIDATES = 5
OFFSETS_PER_CANDIDATE = 3
MIN_VOTES = 2


@dataclass(frozen=True)
class FingerprintMatch:
    recording: Recording
    alignment: fp.Alignment

    @property
    def artists(self) -> str:
        names = [
            credit.party.name
            for credit in self.recording.artists.all()
            if credit.role == RecordingArtist.Role.MAIN
        ]
        return " & ".join(names) if len(names) <= 2 else ", ".join(names)

    @property
    def evidence(self) -> str:
        return (
            f"matches “{self.recording.title}” by {self.artists}, "
            f"{self.alignment.coverage:.0%} of the fingerprint"
        )


def fingerprint_candidates(*, frames: np.ndarray) -> dict[int, list[int]]:
    """Recordings sharing sub-hashes with ``frames``, best-voted first, with their offsets.

    One indexed query; the (key, recording, position) index answers it on its own."""
    positions = fp.query_positions(frames)
    if not positions:
        return {}
    hits = FingerprintKey.objects.filter(key__in=list(positions)).values_list(
        "key", "recording_id", "position"
    )
    votes = fp.offset_votes(positions, hits.iterator(chunk_size=5000))
    best: dict[int, list[int]] = {}
    for (recording_id, offset), count in votes.most_common():
        if count < MIN_VOTES:
            break
        if recording_id not in best and len(best) >= CANDIDATES:
            continue
        offsets = best.setdefault(recording_id, [])
        if len(offsets) < OFFSETS_PER_CANDIDATE:
            offsets.append(offset)
    return best


def fingerprint_matches(*, frames: np.ndarray) -> list[FingerprintMatch]:
    """Catalog recordings whose audio ``frames`` match, most of the fingerprint first."""
    candidates = fingerprint_candidates(frames=frames)
    stored = RecordingFingerprint.objects.filter(recording_id__in=list(candidates)).only(
        "recording_id", "frames"
    )
    found: dict[int, fp.Alignment] = {}
    for row in stored:
        alignment = fp.align(frames, fp.frames_from_bytes(row.frames), candidates[row.recording_id])
        if alignment is not None and alignment.is_match:
            found[row.recording_id] = alignment
    recordings = Recording.objects.filter(pk__in=list(found)).prefetch_related("artists__party")
    matches = [FingerprintMatch(recording, found[recording.pk]) for recording in recordings]
    return sorted(matches, key=lambda m: (-m.alignment.coverage, m.alignment.bit_error_rate))


def recording_holder_ids(*, recording: Recording) -> set[int]:
    """Parties that hold a recording: its credited artists and its master split holders."""
    artists = RecordingArtist.objects.filter(recording=recording).values_list("party_id", flat=True)
    holders = SplitShare.objects.filter(
        version__recording=recording, version__side=SplitVersion.Side.MASTER
    ).values_list("party_id", flat=True)
    return set(artists) | set(holders)


def upload_is_holders_own(*, uploader, recording: Recording) -> bool:
    owned = party_list_owned(user=uploader, kinds=[Party.Kind.ARTIST, Party.Kind.LABEL])
    return bool(set(owned.values_list("pk", flat=True)) & recording_holder_ids(recording=recording))


def ghost_track_allowed(*, uploader, recording: Recording) -> bool:
    """Staff allowed this uploader's matching audio as a legitimate re-release."""
    return GhostTrackFlag.objects.filter(
        uploader=uploader, matched_recording=recording, status=GhostTrackFlag.Status.ALLOWED
    ).exists()


def ghost_track_flag_list(*, status: str | None = None) -> QuerySet[GhostTrackFlag]:
    flags = GhostTrackFlag.objects.select_related(
        "uploader", "decided_by", "matched_recording"
    ).prefetch_related("matched_recording__artists__party")
    return flags.filter(status=status) if status else flags
