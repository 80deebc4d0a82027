"""Reactions to catalog's announcements. Catalog never imports remixing;
it sends signals after commit and we subscribe here (RemixingConfig.ready)."""

from __future__ import annotations

import logging

from remixing.services.jobs import remixes_cancel_for_recordings

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
