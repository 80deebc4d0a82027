"""Published remixes of a track, for its page."""

from __future__ import annotations

from catalog.models import Recording


def published_remixes_of(*, recording: Recording) -> list:
    from remixing.selectors import remix_list_published

    return list(remix_list_published(recording=recording))
