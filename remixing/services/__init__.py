"""Every write of remixing. Import from here: `from remixing.services import remix_create`."""

from .jobs import (
    remix_cancel,
    remixes_cancel_for_recordings,
    stemset_cancel_for_recordings,
)
from .remixes import (
    remix_create,
    remix_notice_mark_read,
    remix_play_count_increment,
    remix_publish,
    remix_render_start,
    remix_request_stems,
    remix_unpublish,
    remix_update_recipe,
)
from .stems import stemset_for_recording, stemset_key_for_recording, stemset_request

__all__ = [
    "remix_cancel",
    "remix_create",
    "remix_notice_mark_read",
    "remix_play_count_increment",
    "remix_publish",
    "remix_render_start",
    "remix_request_stems",
    "remix_unpublish",
    "remix_update_recipe",
    "remixes_cancel_for_recordings",
    "stemset_cancel_for_recordings",
    "stemset_for_recording",
    "stemset_key_for_recording",
    "stemset_request",
]
