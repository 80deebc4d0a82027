"""The stem cache: separate once, remix many times.

A stem set is keyed by (content hash, model). Official stems, supplied by the
rights holder, win over separated ones; their key is a hash over the official
stems' own hashes, so replacing an official stem makes a new set.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction

from catalog.errors import DomainError
from catalog.models import OfficialStem, Recording
from remixing.engine.audio_io import sha256_file
from remixing.models import OFFICIAL_MODEL, StemSet
from remixing.storage import local_copy


def stemset_key_for_recording(
    *, recording: Recording, model_name: str | None = None, compute: bool = True
) -> tuple[str, str] | None:
    """(audio hash, model) for the stems a remix of `recording` uses, or None
    when there is nothing to separate."""
    official = list(
        OfficialStem.objects.filter(recording=recording)
        .order_by("name")
        .values_list("name", "sha256")
    )
    if official:
        digest = hashlib.sha256("\n".join(f"{n}:{s}" for n, s in official).encode()).hexdigest()
        return digest, OFFICIAL_MODEL
    sha = recording.audio_sha256
    if not sha and recording.audio and compute:
        # Catalog normally fills the hash on upload; fall back to reading the
        # file rather than refusing (the hash is what makes the cache work).
        with local_copy(recording.audio) as path:
            sha = sha256_file(path)
    if not sha:
        return None
    return sha, model_name or settings.DEMUCS_MODEL


def _enqueue(stem_set: StemSet) -> None:
    from remixing import tasks

    if stem_set.model_name == OFFICIAL_MODEL:
        tasks.stems_import_official.delay_on_commit(stem_set.pk)
    else:
        tasks.separation_run.delay_on_commit(stem_set.pk)


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
                audio_sha256=sha, model_name=model, defaults={"recording": recording}
            )
    except IntegrityError:
        stem_set, created = StemSet.objects.get(audio_sha256=sha, model_name=model), False
    if start and (created or stem_set.status != StemSet.Status.READY):
        stem_set = stemset_request(stem_set=stem_set, recording=recording)
    return stem_set


@transaction.atomic
def stemset_request(*, stem_set: StemSet, recording: Recording | None = None) -> StemSet:
    """Make sure a job will produce this stem set: queue it if pending, retry
    it if it failed or was cancelled. Harmless to call twice (the task claims)."""
    stem_set = StemSet.objects.select_for_update().get(pk=stem_set.pk)
    if stem_set.status == StemSet.Status.READY:
        return stem_set
    if stem_set.status == StemSet.Status.RUNNING:
        return stem_set
    if stem_set.status in (StemSet.Status.FAILED, StemSet.Status.CANCELLED):
        stem_set.status = StemSet.Status.PENDING
        stem_set.progress = 0
        stem_set.stage = "Queued again"
        stem_set.error = ""
        stem_set.finished_at = None
        if recording is not None:
            # The recording that asks now is the one whose consent the job checks.
            stem_set.recording = recording
        stem_set.save()
    # A pending set may have lost its message (broker flushed); queueing again
    # is safe because the task claims the row before working.
    _enqueue(stem_set)
    return stem_set
