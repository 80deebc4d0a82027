"""The stem cache: separate once, remix many times.

A stem set is keyed by (content hash, model). Official stems, supplied by the
rights holder, win over separated ones; their key is a hash over the official
stems' own hashes, so replacing an official stem makes a new set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import user_is_auditor
from catalog.audit_log import staff_audit_append
from catalog.models import Recording
from catalog.selectors import recording_remixability_map
from core.errors import Conflict, DomainError
from remixing.enqueue import OFFICIAL_IMPORT, SEPARATION, task_enqueue_on_commit
from remixing.leases import lease_is_live, max_attempts, requeue_after_seconds
from remixing.models import OFFICIAL_MODEL, StemSet
from remixing.selectors import separation_choice_or_error, stemset_key_for_recording

logger = logging.getLogger(__name__)

# The staff audit log's action name for a staff retry of a failed stem set.
STEMSET_RETRY = "stemset.retry"


def stemset_backend_for_model(model_name: str) -> str:
    """The backend that makes stems named `model_name` (model names are distinct)."""
    if model_name == OFFICIAL_MODEL:
        return StemSet.Backend.OFFICIAL
    return separation_choice_or_error(model_name).backend


def stemset_enqueue(*, stem_set: StemSet, countdown: float = 0) -> None:
    """Queue the set's job after commit and note when, so the sweep can tell
    a lost message (broker restart or flush) from one still waiting."""
    StemSet.objects.filter(pk=stem_set.pk).update(
        queued_at=timezone.now() + timedelta(seconds=countdown)
    )
    name = OFFICIAL_IMPORT if stem_set.model_name == OFFICIAL_MODEL else SEPARATION
    task_enqueue_on_commit(name, stem_set.pk, countdown=countdown)


@transaction.atomic
def stemset_for_recording(
    *, recording: Recording, model_name: str | None = None, start: bool = True
) -> StemSet:
    """The stem set for `recording`, created (and its job queued) if needed.

    A ready set is returned as is: a second remix never runs the model again.
    """
    key = stemset_key_for_recording(recording=recording, model_name=model_name)
    if key is None:
        raise DomainError(
            "This recording has no audio to make stems from yet.",
            code="no_audio",
            fields={"recording": ["No audio uploaded."]},
        )
    sha, model = key
    try:
        # A savepoint, so losing the race to create keeps the outer transaction usable.
        with transaction.atomic():
            stem_set, created = StemSet.objects.get_or_create(
                audio_sha256=sha,
                model_name=model,
                defaults={"recording": recording, "backend": stemset_backend_for_model(model)},
            )
    except IntegrityError:
        stem_set, created = StemSet.objects.get(audio_sha256=sha, model_name=model), False
    if start and (created or stem_set.status != StemSet.Status.READY):
        stem_set = stemset_request(stem_set=stem_set, recording=recording)
    return stem_set


@transaction.atomic
def stemset_request(*, stem_set: StemSet, recording: Recording | None = None) -> StemSet:
    """Make sure a job will produce this stem set. Cheap and safe to call on
    every studio open: it queues only what nothing is working on.

    A set that failed for good stays failed (automatic retries are spent;
    only a staff retry, `stemset_retry`, starts it again). A cancelled set
    (the track stopped being remixable, and is again) starts afresh."""
    stem_set = StemSet.objects.select_for_update().get(pk=stem_set.pk)
    now = timezone.now()
    if stem_set.status in (StemSet.Status.READY, StemSet.Status.FAILED):
        return stem_set
    if stem_set.status == StemSet.Status.RUNNING:
        if not lease_is_live(owner=stem_set.lease_owner, expires_at=stem_set.lease_expires_at):
            stemset_enqueue(stem_set=stem_set)  # its worker died: the task takes over
        return stem_set
    if stem_set.status == StemSet.Status.CANCELLED:
        _stemset_restart(stem_set, recording=recording, stage="Queued again")
    elif stem_set.queued_at and now - stem_set.queued_at < timedelta(
        seconds=requeue_after_seconds()
    ):
        return stem_set  # its task is queued (or due after a backoff)
    stemset_enqueue(stem_set=stem_set)
    stem_set.refresh_from_db()
    return stem_set


def _stemset_restart(stem_set: StemSet, *, recording: Recording | None, stage: str) -> None:
    stem_set.status = StemSet.Status.PENDING
    stem_set.progress = 0
    stem_set.stage = stage
    stem_set.error = ""
    stem_set.error_detail = ""
    stem_set.finished_at = None
    stem_set.lease_owner, stem_set.lease_expires_at = "", None
    stem_set.attempt_limit = stem_set.attempts + max_attempts()
    if recording is not None:
        # The recording that asks now is the one whose consent the job checks.
        stem_set.recording = recording
    stem_set.save()


@transaction.atomic
def stemset_retry(*, stem_set: StemSet, actor, reason: str) -> StemSet:
    """Staff: try a stem set that failed for good again, with a fresh budget
    of attempts; logged in the staff audit log in the same transaction."""
    if not user_is_auditor(actor):
        raise PermissionDenied("Only staff can retry a stem set.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why you retry it.", code="reason_required")
    stem_set = StemSet.objects.select_for_update().get(pk=stem_set.pk)
    if stem_set.status != StemSet.Status.FAILED:
        raise Conflict(
            f"This stem set is {stem_set.get_status_display().lower()}, not failed.",
            code="not_failed",
        )
    staff_audit_append(
        actor=actor,
        action=STEMSET_RETRY,
        subject_type="stem_set",
        subject_id=stem_set.pk,
        reason=reason,
        data={
            "attempts": stem_set.attempts,
            "model": stem_set.model_name,
            "error_detail": stem_set.error_detail[:500],
        },
    )
    _stemset_restart(stem_set, recording=None, stage="Queued again by our team")
    stemset_enqueue(stem_set=stem_set)
    stem_set.refresh_from_db()
    return stem_set


def stemsets_prepare(*, recording_ids: Iterable[int]) -> dict[str, int]:
    """Make stems ready before any fan asks: for each of `recording_ids` that is
    remixable now, create its stem set and queue the job (official import or
    separation). Idempotent: ready or running sets are left alone. Recordings
    that are not remixable are skipped (no consent, no processing of the audio)."""
    recordings = list(Recording.objects.filter(pk__in=set(recording_ids)).order_by("pk"))
    verdicts = recording_remixability_map(recordings)
    counts = {"queued": 0, "ready": 0, "skipped": 0}
    for recording in recordings:
        if not verdicts[recording.pk].remixable:
            counts["skipped"] += 1
            continue
        try:
            stem_set = stemset_for_recording(recording=recording)
        except DomainError as error:
            logger.warning("no stems for recording %s: %s", recording.pk, error.message)
            counts["skipped"] += 1
            continue
        counts["ready" if stem_set.is_ready else "queued"] += 1
    return counts
