"""The stem-set job: separate a recording (or take its official stems) and store the
stems; then the structure analysis of the stems."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from catalog.models import OfficialStem, Recording
from catalog.selectors import recording_remixability
from remixing import audio
from remixing.engine.structure import ANALYSIS_VERSION, analyse_structure
from remixing.enqueue import STRUCTURE, task_enqueue_on_commit
from remixing.leases import (
    duration_words,
    lease_clear,
    retry_delay_seconds,
)
from remixing.models import Remix, Stem, StemSet, StemSetStructure
from remixing.services.job_records import (
    STEMS_FAILED,
    stemset_end,
)
from remixing.services.remixes import remix_enqueue
from remixing.services.stems import stemset_enqueue
from remixing.storage import local_copy, put

from .attempts import (
    JobFailed,
    Progress,
    attempt_in_run,
    failure_detail,
    interrupted_detail,
    job_attempt_failed,
    job_claim_locked,
    job_finish_locked,
    job_lease_expired,
    job_run,
    lease_take,
)

logger = logging.getLogger(__name__)

# What fans read. Plain words: what happened and what comes next.
STEMS_RETRYING = (
    "We couldn't prepare this track for remixing yet; we'll try again automatically in {when}."
)
STEMS_INTERRUPTED = "Preparing this track was interrupted; we're picking it up again."
STEMS_NOT_REMIXABLE = "This track can no longer be remixed, so we stopped preparing it."


# Ready and cancelled sets are done; a set failed for good only starts again by a
# staff retry.
STEMSET_WAITING = (StemSet.Status.PENDING, StemSet.Status.RUNNING)


def _stemset_claim(stem_set_id: int) -> tuple[StemSet, int] | str:
    with transaction.atomic():
        stem_set = job_claim_locked(StemSet, stem_set_id, waiting=STEMSET_WAITING)
        if isinstance(stem_set, str):
            return stem_set
        now = timezone.now()
        recording = stem_set.recording
        if recording is None or not recording_remixability(recording=recording).remixable:
            stemset_end(stem_set, StemSet.Status.CANCELLED, message=STEMS_NOT_REMIXABLE)
            return "cancelled"
        if stem_set.status == StemSet.Status.RUNNING:
            logger.warning("stem set %s: %s", stem_set.pk, interrupted_detail(stem_set))
            stem_set.error_detail = interrupted_detail(stem_set)
        if stem_set.attempts >= stem_set.attempt_limit:
            _stemset_gave_up(stem_set)
            return "failed"
        stem_set.status = StemSet.Status.RUNNING
        lease_take(stem_set, now)
        stem_set.started_at = now
        stem_set.finished_at = None
        stem_set.save()
        return stem_set, stem_set.attempts


def _stemset_gave_up(stem_set: StemSet) -> None:
    detail = f"Gave up after {stem_set.attempts} attempts. Last: {stem_set.error_detail}"
    stemset_end(stem_set, StemSet.Status.FAILED, message=STEMS_FAILED, detail=detail)


def _stemset_retry_or_fail(stem_set: StemSet, *, detail: str, delay: float | None) -> str:
    """The attempt that held `stem_set` (locked) ended without stems: queue
    the next one (after `delay`, or the backoff) or fail for good."""
    stem_set.error_detail = detail[:2000]
    if stem_set.attempts >= stem_set.attempt_limit:
        _stemset_gave_up(stem_set)
        return "failed"
    if delay is None:
        delay = retry_delay_seconds(attempt_in_run(stem_set))
        stem_set.error = STEMS_RETRYING.format(when=duration_words(delay))
        stem_set.stage = "Waiting to try again"
    else:
        stem_set.error = STEMS_INTERRUPTED
        stem_set.stage = "Starting again after an interruption"
    stem_set.status = StemSet.Status.PENDING
    stem_set.progress = 0
    lease_clear(stem_set)
    stem_set.save()
    stemset_enqueue(stem_set=stem_set, countdown=delay)
    return "retrying"


def _stemset_attempt_failed(stem_set: StemSet, attempt: int, error: Exception) -> str:
    # Whatever went wrong (the model would not load, a file vanished, a time
    # limit), this attempt is over; the next one comes with backoff.
    detail = failure_detail(error)
    return job_attempt_failed(
        StemSet,
        stem_set.pk,
        attempt,
        then=lambda locked: _stemset_retry_or_fail(locked, detail=detail, delay=None),
    )


def stemset_lease_expired(*, stem_set_id: int) -> str:
    """Sweep: a running set whose lease expired (or whose holder died on this
    host) goes back to the queue now; the interruption counts as an attempt.
    Returns "" if its lease is live after all."""
    return job_lease_expired(StemSet, stem_set_id, requeue=_stemset_retry_or_fail)


def _write_stem_files(
    stem_set: StemSet, stems: dict, samplerate: int, scratch: Path, progress: Progress
) -> list[dict]:
    out = []
    total = max(1, len(stems))
    for index, (name, data) in enumerate(sorted(stems.items())):
        progress(index / total, f"Encoding {name}")
        lossless = scratch / f"{name}{audio.lossless_suffix(data)}"
        preview, preview_mp3 = scratch / f"{name}.opus", scratch / f"{name}.mp3"
        info = audio.write_stem(
            data, samplerate, lossless=lossless, preview=preview, preview_mp3=preview_mp3
        )
        out.append(
            {"name": name, "lossless": lossless, "preview": preview, "preview_mp3": preview_mp3,
             **info}
        )  # fmt: skip
    return out


def _stemset_finish(
    stem_set_id: int, attempt: int, files: list[dict], device: str, runtime: str
) -> str:
    with transaction.atomic():
        stem_set = job_finish_locked(StemSet, stem_set_id, attempt)
        if isinstance(stem_set, str):
            return stem_set
        recording = stem_set.recording
        if recording is None or not recording_remixability(recording=recording).remixable:
            stemset_end(stem_set, StemSet.Status.CANCELLED, message=STEMS_NOT_REMIXABLE)
            return "cancelled"
        for item in files:
            stem = Stem(stem_set=stem_set, name=item["name"])
            lossless_name = stem.lossless.field.generate_filename(stem, item["lossless"].name)
            preview_name = stem.preview.field.generate_filename(stem, item["preview"].name)
            mp3_name = stem.preview_mp3.field.generate_filename(stem, item["preview_mp3"].name)
            lossless_name = put(lossless_name, item["lossless"])
            preview_name = put(preview_name, item["preview"])
            mp3_name = put(mp3_name, item["preview_mp3"])
            Stem.objects.update_or_create(
                stem_set=stem_set,
                name=item["name"],
                defaults={
                    "lossless": lossless_name,
                    "preview": preview_name,
                    "preview_mp3": mp3_name,
                    "peaks": item["peaks"],
                    "duration_s": item["duration_s"],
                    "samplerate": item["samplerate"],
                    "sha256": item["sha256"],
                },
            )
        stem_set.stems.exclude(name__in=[item["name"] for item in files]).delete()
        stem_set.status = StemSet.Status.READY
        stem_set.progress = 100
        stem_set.stage = "Ready"
        stem_set.error = stem_set.error_detail = ""
        stem_set.lease_owner, stem_set.lease_expires_at = "", None
        stem_set.device = device
        stem_set.runtime = runtime
        stem_set.finished_at = timezone.now()
        stem_set.save()
        # Renders that were waiting for these stems can go now.
        for remix in Remix.objects.filter(stem_set=stem_set, status=Remix.Status.SEPARATING):
            remix_enqueue(remix=remix)
        # Beats, bars and sections for re-arranging: once per stem set, off the stems' path.
        task_enqueue_on_commit(STRUCTURE, stem_set.pk)
    return "ready"


def stemset_structure_run(stem_set_id: int) -> str:
    """Find the beats, bars and sections of a ready stem set (once; idempotent)."""
    stem_set = StemSet.objects.filter(pk=stem_set_id, status=StemSet.Status.READY).first()
    if stem_set is None:
        return "missing"
    if StemSetStructure.objects.filter(stem_set=stem_set, version=ANALYSIS_VERSION).exists():
        return "exists"
    mix = None
    samplerate = 44100
    for stem in stem_set.stems.order_by("name"):
        with local_copy(stem.lossless) as path:
            data, samplerate = audio.load(path, samplerate=samplerate)
        mono = data.mean(axis=0)
        mix = mono if mix is None else mix[: len(mono)] + mono[: len(mix)]
    if mix is None:
        return "missing"
    try:
        found = analyse_structure(mix, samplerate)
    except Exception:
        # Optional: without it the studio simply offers no re-arranging for these stems.
        logger.exception("stem set %s: structure analysis failed", stem_set_id)
        return "failed"
    StemSetStructure.objects.update_or_create(
        stem_set=stem_set, defaults={"version": ANALYSIS_VERSION, "data": found}
    )
    return "ready"


def stemset_execute(stem_set_id: int) -> str:
    """Make the stems of one stem set (separation or official import).

    Returns an outcome word: ready, retrying, failed, cancelled, superseded,
    skipped, busy (someone else holds a live lease) or missing.
    """
    row = StemSet.objects.filter(pk=stem_set_id).values("model_name").first()
    if row is None:
        return "missing"
    official = row["model_name"] == "official"
    return job_run(
        _stemset_claim(stem_set_id),
        model=StemSet,
        end=90,
        scratch="stems",
        work=partial(_stemset_work, official=official),
        failed=_stemset_attempt_failed,
    )


def _stemset_work(
    stem_set: StemSet, attempt: int, progress: Progress, scratch: Path, *, official: bool
) -> str:
    try:
        if official:
            stems, samplerate, device = _load_official(stem_set.recording, progress)
            runtime = ""
        else:
            stems, samplerate, device, runtime = _separate(stem_set, progress)
        progress.check()
        files = _write_stem_files(stem_set, stems, samplerate, scratch, progress)
        progress.check()
        return _stemset_finish(stem_set.pk, attempt, files, device, runtime)
    except SoftTimeLimitExceeded:
        audio.release()  # free GPU memory before anything else; then the attempt fails
        raise


def _load_official(recording: Recording, progress: Progress):
    stems = {}
    samplerate = 44100
    official = list(OfficialStem.objects.filter(recording=recording).order_by("name"))
    for index, stem in enumerate(official):
        progress(index / max(1, len(official)), f"Reading official {stem.name} stem")
        with local_copy(stem.file) as path:
            data, samplerate = audio.load(path, samplerate=samplerate)
        stems[stem.name] = data
    if not stems:
        raise JobFailed("The official stems were removed.")
    return stems, samplerate, "official"


def _separate(stem_set: StemSet, progress: Progress):
    recording = stem_set.recording
    if not recording.audio:
        raise JobFailed("The recording has no audio file.")
    with local_copy(recording.audio) as path:
        progress(0.0, f"Loading the {stem_set.get_backend_display()} {stem_set.model_name}")
        return audio.separate(
            path, backend=stem_set.backend, model_name=stem_set.model_name, progress=progress
        )
