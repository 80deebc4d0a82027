"""The one spelling of a media file name that the media view accepts.

Pure: no Django. A requested path is never repaired (decoded again, case-folded,
dot segments resolved): any spelling other than the canonical one is refused,
so no later step (the filesystem, a storage backend, a proxy) can read it as a
different file than the one the rights check looked at.
"""

from __future__ import annotations

import re

MAX_NAME = 255  # the FileFields' max_length

# Every name the project stores: lower-level folders and generated file names
# made of ASCII letters, digits, "_", "-" and ".", separated by single "/".
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def media_name_canonical(path: str) -> str | None:
    """`path` if it is a canonical relative media name, else None.

    Refused: empty or overlong names; anything outside [A-Za-z0-9_.-/] (so
    percent signs left by double encoding, backslashes, NUL and other control
    characters, spaces, ";", ":", and every non-ASCII character, including
    what overlong UTF-8 or full-width dots decode to); absolute names; empty,
    "." and ".." segments (so "//", trailing "/"); segments that start or end
    with a dot (hidden files, "...", Windows' trailing-dot aliases).
    """
    if not path or len(path) > MAX_NAME:
        return None
    for segment in path.split("/"):
        if not _SEGMENT.fullmatch(segment) or segment.endswith("."):
            return None
    return path
