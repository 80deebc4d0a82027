"""Asking for lossy previews (a recording's; a stem set's light streams):
queued once, made by a worker."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Recording
from remixing.enqueue import RECORDING_PREVIEW, STEM_LIGHT_STREAMS, task_enqueue_on_commit
from remixing.models import RecordingPreview, Stem, StemSet
from remixing.previews import preview_sha

# Asked again while pending or failed: queue again only after this long, so
# a page view never re-queues work that is already waiting or keeps failing.
REQUEUE_AFTER = timedelta(minutes=10)


def recording_preview_request(*, recording: Recording) -> RecordingPreview | None:
    """The recording's preview row; its encoding is queued (after commit) when
    the row is new, or was made from other audio, or has been pending, running
    or failed for a while (a lost message, a dead worker, a transient error).
    A recording without audio has none, and costs no transaction."""
    if not recording.audio:
        return None
    return _preview_request(recording)


@transaction.atomic
def _preview_request(recording: Recording) -> RecordingPreview:
    # Read first: the row exists on every visit but the first, and a plain
    # read costs one query where get_or_create's savepoint costs three.
    preview = RecordingPreview.objects.filter(recording=recording).first()
    created = False
    if preview is None:
        try:
            with transaction.atomic():
                preview, created = RecordingPreview.objects.get_or_create(recording=recording)
        except IntegrityError:  # lost the race to create: the winner queued it
            return RecordingPreview.objects.get(recording=recording)
    if preview.is_ready and preview.audio_sha256 == preview_sha(recording):
        return preview
    if created or timezone.now() - preview.updated_at > REQUEUE_AFTER:
        if preview.status != RecordingPreview.Status.RUNNING:
            # Remember when it was queued. A running row keeps its time: the
            # task takes over a claim that old (remixing.previews).
            RecordingPreview.objects.filter(pk=preview.pk).update(updated_at=timezone.now())
        task_enqueue_on_commit(RECORDING_PREVIEW, recording.pk)
    return preview


# A stem set is asked for its light streams at most this often (a studio open
# queues them once; the worker skips what is already made).
LIGHT_STREAMS_REQUEUE_SECONDS = 600


def stemset_light_streams_request(*, stem_set: StemSet, stems: list[Stem]) -> bool:
    """Queue the light streams of a ready set whose stems predate them; True when queued."""
    if not stem_set.is_ready or all(stem.has_light_streams for stem in stems):
        return False
    if not cache.add(f"stem-light-streams:{stem_set.pk}", 1, LIGHT_STREAMS_REQUEUE_SECONDS):
        return False
    task_enqueue_on_commit(STEM_LIGHT_STREAMS, stem_set.pk)
    return True
