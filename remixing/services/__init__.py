"""Every write of remixing. Import from here: `from remixing.services import remix_create`."""

from .catalog_reactions import remixes_cancel_for_recordings, remixes_notify_republishable
from .covers import cover_take_create, cover_take_delete, cover_takes_delete_for_user
from .job_records import remix_cancel, stemset_cancel_for_recordings
from .remixes import (
    remix_create,
    remix_enqueue,
    remix_fork,
    remix_forks_allow,
    remix_notice_mark_read,
    remix_play_listener,
    remix_play_record,
    remix_publish,
    remix_render_start,
    remix_request_stems,
    remix_unpublish,
    remix_update_recipe,
)
from .stems import (
    stemset_enqueue,
    stemset_for_recording,
    stemset_request,
    stemset_retry,
    stemsets_prepare,
)

__all__ = [
    "cover_take_create",
    "cover_take_delete",
    "cover_takes_delete_for_user",
    "remix_cancel",
    "remix_create",
    "remix_enqueue",
    "remix_fork",
    "remix_forks_allow",
    "remix_notice_mark_read",
    "remix_play_listener",
    "remix_play_record",
    "remix_publish",
    "remix_render_start",
    "remix_request_stems",
    "remix_unpublish",
    "remix_update_recipe",
    "remixes_cancel_for_recordings",
    "remixes_notify_republishable",
    "stemset_cancel_for_recordings",
    "stemset_enqueue",
    "stemset_for_recording",
    "stemset_request",
    "stemset_retry",
    "stemsets_prepare",
]
