"""Reactions to catalog's announcements. Catalog never imports remixing;
it sends signals after commit and we subscribe here (RemixingConfig.ready)."""

from __future__ import annotations

import logging

from django.conf import settings

from catalog.models import Recording
from remixing.enqueue import STEMS_PREPARE, task_enqueue_on_commit
from remixing.services.catalog_reactions import (
    remixes_cancel_for_recordings,
    remixes_notify_republishable,
)
from remixing.services.previews import recording_preview_request

logger = logging.getLogger(__name__)


def on_consent_revoked(sender, *, recording_ids, unpublish, event_id=None, party_id=None, **kw):
    result = remixes_cancel_for_recordings(
        recording_ids=recording_ids,
        reason="The artist withdrew consent for remixes of this track.",
        unpublish=bool(unpublish),
        consent_event_id=event_id,
    )
    logger.info("consent revoked (event %s): %s", event_id, result)


def on_takedown_placed(sender, *, recording_ids, reason="", event_id=None, **kw):
    # A takedown always unpublishes: staff removed the track itself.
    result = remixes_cancel_for_recordings(
        recording_ids=recording_ids,
        reason=f"The track was taken down: {reason}".strip().rstrip(":"),
        unpublish=True,
        consent_event_id=event_id,
    )
    logger.info("takedown (event %s): %s", event_id, result)


def on_may_have_become_remixable(sender, *, recording_ids, **kw):
    """A grant, a lifted takedown, an upload or a split may have made recordings
    remixable: make their stems now, so the studio never waits for a job. The
    work runs in a task (a catalog-wide grant may touch many recordings); the
    grant itself has committed already, so a broker hiccup must not fail it."""
    if kw.get("kind") == "revoke" or not recording_ids:
        return
    if not settings.SEPARATION_PREPARE_AHEAD:
        return  # the operator chose separation on demand (first studio open)
    try:
        task_enqueue_on_commit(STEMS_PREPARE, list(recording_ids))
    except Exception:
        logger.exception("could not queue stem preparation for %s", recording_ids)


def on_recording_audio_stored(sender, *, recording_id, **kw):
    # Players never get the master: make its lossy previews now, once.
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is not None:
        recording_preview_request(recording=recording)


def on_consent_changed(sender, *, recording_ids, kind="", **kw):
    # A grant can make unpublished remixes publishable again: tell their fans.
    if kind == "grant":
        remixes_notify_republishable(recording_ids=recording_ids)


def on_takedown_lifted(sender, *, recording_ids, **kw):
    remixes_notify_republishable(recording_ids=recording_ids)
