"""The ghost-track guard: fingerprints stored with recordings, uploads checked against
them, refusals flagged for staff, and staff decisions written to the staff audit log."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import PurePath

import numpy as np
from django.db import transaction
from django.utils import timezone

from catalog import fingerprint as fp
from catalog.audit_log import Action, staff_audit_append
from catalog.ghost_tracks import (
    fingerprint_matches,
    ghost_track_allowed,
    upload_is_holders_own,
)
from catalog.models import (
    FingerprintKey,
    GhostTrackFlag,
    Party,
    Recording,
    RecordingFingerprint,
)
from core.errors import DomainError, PermissionDenied


def recording_fingerprint_store(*, recording: Recording, frames: np.ndarray) -> None:
    """Store a recording's fingerprint and its sub-hashes (in the caller's transaction)."""
    if len(frames) == 0:
        return
    RecordingFingerprint.objects.update_or_create(
        recording=recording,
        defaults={
            "algorithm": fp.ALGORITHM,
            "frame_count": len(frames),
            "frames": fp.frames_to_bytes(frames),
        },
    )
    FingerprintKey.objects.filter(recording=recording).delete()
    FingerprintKey.objects.bulk_create(
        (
            FingerprintKey(key=key, recording=recording, position=position)
            for key, position in fp.index_entries(frames)
        ),
        batch_size=2000,
    )


def _refusal_message(match) -> str:
    return (
        f"This audio matches “{match.recording.title}” by {match.artists} "
        f"({match.alignment.coverage:.0%} of its fingerprint), a recording held by other rights "
        "holders, so it cannot be uploaded under these names. Our staff have been told; if "
        "this is a legitimate re-release, they can allow it and you can upload it again."
    )


def ghost_track_check(
    *,
    uploader,
    frames: np.ndarray,
    audio_sha256: str,
    title: str,
    main_artists: list[Party],
) -> None:
    """Refuse an upload whose audio matches a recording held by other parties.

    The refusal is flagged for staff with the evidence, in its own transaction, so the flag
    stays although the upload does not happen. A match with the uploader's own recording
    (a re-upload, a remaster) or one staff allowed for this uploader passes. Audio too short
    to fingerprint (under about 2.5 s) has nothing to compare and passes."""
    if len(frames) == 0:
        return
    for match in fingerprint_matches(frames=frames):
        if upload_is_holders_own(uploader=uploader, recording=match.recording):
            continue
        if ghost_track_allowed(uploader=uploader, recording=match.recording):
            continue
        with transaction.atomic():
            GhostTrackFlag.objects.get_or_create(
                uploader=uploader,
                matched_recording=match.recording,
                audio_sha256=audio_sha256,
                status=GhostTrackFlag.Status.PENDING,
                defaults={
                    "claimed_title": title[:300],
                    "claimed_artists": ", ".join(p.name for p in main_artists)[:500],
                    "coverage": match.alignment.coverage,
                    "bit_error_rate": match.alignment.bit_error_rate,
                    "offset_s": match.alignment.offset_s,
                },
            )
        message = _refusal_message(match)
        raise DomainError(message, code="ghost_track", status_code=409, fields={"audio": [message]})


@transaction.atomic
def ghost_track_decide(
    *, flag: GhostTrackFlag, staff_user, allow: bool, reason: str
) -> GhostTrackFlag:
    """Staff allow a flagged upload as a legitimate re-release, or confirm the refusal.

    Written to the staff audit log in the same transaction."""
    if not getattr(staff_user, "is_staff", False):
        raise PermissionDenied("Only staff can decide on flagged uploads.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for the decision.", fields={"reason": ["Required."]})
    flag = GhostTrackFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status != GhostTrackFlag.Status.PENDING:
        raise DomainError(
            f"This flag was already decided: {flag.get_status_display().lower()}.",
            code="already_decided",
            status_code=409,
        )
    flag.status = GhostTrackFlag.Status.ALLOWED if allow else GhostTrackFlag.Status.REFUSED
    flag.decided_by = staff_user
    flag.decided_at = timezone.now()
    flag.decision_reason = reason
    flag.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    staff_audit_append(
        actor=staff_user,
        action=Action.GHOST_TRACK_ALLOW if allow else Action.GHOST_TRACK_REFUSE,
        subject_type="ghost_track_flag",
        subject_id=flag.pk,
        reason=reason,
        data={
            "uploader_id": flag.uploader_id,
            "claimed_title": flag.claimed_title,
            "claimed_artists": flag.claimed_artists,
            "matched_recording_id": flag.matched_recording_id,
            "coverage": flag.coverage,
            "bit_error_rate": flag.bit_error_rate,
            "audio_sha256": flag.audio_sha256,
        },
    )
    return flag


def recording_fingerprint_make(*, recording: Recording) -> bool:
    """Fingerprint a stored recording's audio (recordings stored before the guard, or
    while fpcalc was missing). False when it has no audio or it is too short."""
    if not recording.audio:
        return False
    suffix = PurePath(recording.audio.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        with recording.audio.open("rb") as source:
            shutil.copyfileobj(source, copy)
        copy.flush()
        frames = fp.fingerprint_file(copy.name)
    if len(frames) == 0:
        return False
    with transaction.atomic():
        recording_fingerprint_store(recording=recording, frames=frames)
    return True
