"""The one door to media: a file is served only after the database row that
owns it says the requester may have it (marketplace.media_access), and only
under its one canonical name (marketplace.media_paths).

Local storage (demo, tests, small installs): the bytes are streamed from here,
with byte ranges for seeking, never through a symlink or out of MEDIA_ROOT.
Object storage (S3): a redirect to a URL signed for a short time, made only
after the same check; the objects themselves are private.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from collections.abc import Iterator
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from django.views.static import was_modified_since

from .media_access import MediaGrant, media_grant_for
from .media_paths import media_name_canonical

_RANGE = re.compile(r"^bytes=(?P<start>\d*)-(?P<end>\d*)$")
_CHUNK = 64 * 1024


class MediaFileMissing(Exception):
    """The row names a file that is not (safely) there."""


def media_file_open(fieldfile) -> BinaryIO:
    """Open a local file a row names, refusing names that are not canonical,
    that resolve through a symlink (anywhere under MEDIA_ROOT) or that are not
    regular files. The check and the open see the same file: O_NOFOLLOW."""
    name = media_name_canonical(fieldfile.name or "")
    if name is None:
        raise MediaFileMissing(fieldfile.name)
    root = os.path.realpath(fieldfile.storage.location)
    expected = os.path.join(root, name)
    if os.path.realpath(expected) != expected:
        raise MediaFileMissing(name)
    try:
        fd = os.open(expected, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        raise MediaFileMissing(name) from error
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise MediaFileMissing(name)
    return os.fdopen(fd, "rb")


def media_file_read(fieldfile) -> BinaryIO:
    """The file's bytes for a view that already checked the owner's rights:
    local files opened as safely as the media view does, others from storage."""
    if isinstance(fieldfile.storage, FileSystemStorage):
        return media_file_open(fieldfile)
    return fieldfile.open("rb")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one range a browser's audio element asks for when it seeks."""
    match = _RANGE.match(header.strip())
    if not match or size == 0 or (not match["start"] and not match["end"]):
        return None
    if match["start"]:
        start = int(match["start"])
        end = min(int(match["end"]), size - 1) if match["end"] else size - 1
    else:  # a suffix range: the last N bytes
        start, end = max(size - int(match["end"]), 0), size - 1
    return (start, end) if start <= end < size else None


def _head_length(value: str) -> int:
    """`?head=N` (1 ≤ N ≤ 16 MiB): the first N bytes of the file; 0 when absent or odd."""
    # isdigit() also says yes to "²" and "١٢", which int() refuses or misreads.
    if not (value.isascii() and value.isdigit()) or len(value) > 8:
        return 0
    return int(value) if 0 < int(value) <= 16 * 1024 * 1024 else 0


def _read_part(handle: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _serve_local(request: HttpRequest, grant: MediaGrant) -> HttpResponseBase:
    try:
        handle = media_file_open(grant.fieldfile)
    except MediaFileMissing:
        raise Http404("No such file.") from None
    info = os.fstat(handle.fileno())
    if not was_modified_since(request.headers.get("If-Modified-Since"), info.st_mtime):
        handle.close()
        return HttpResponseNotModified()
    content_type = mimetypes.guess_type(grant.fieldfile.name)[0] or "application/octet-stream"
    header = request.headers.get("Range", "")
    response: HttpResponseBase
    head = _head_length(request.GET.get("head", ""))
    if head and not header:
        # `?head=N`: the first N bytes as a whole response of their own, which a page
        # can preload (a <link rel=preload> sends no Range); the file's size rides along.
        length = min(head, info.st_size)
        response = StreamingHttpResponse(_read_part(handle, 0, length), content_type=content_type)
        response["Content-Length"] = str(length)
        response["X-Full-Length"] = str(info.st_size)
    elif not header:
        response = FileResponse(handle, content_type=content_type)
    elif (wanted := _byte_range(header, info.st_size)) is None:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{info.st_size}"
    else:
        start, end = wanted
        length = end - start + 1
        response = StreamingHttpResponse(
            _read_part(handle, start, length), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{info.st_size}"
        response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(info.st_mtime)
    # A private file may sit in the requester's browser cache, never a shared one.
    # A public one may be kept anywhere but is revalidated on every play (a 304
    # when nothing changed): an unpublished remix or a taken-down excerpt stops
    # playing at once, in embeds on other sites too.
    response["Cache-Control"] = "public, no-cache" if grant.public else "private, max-age=300"
    return response


def _redirect_signed(grant: MediaGrant) -> HttpResponse:
    fieldfile = grant.fieldfile
    url = fieldfile.storage.url(fieldfile.name, expire=settings.MEDIA_SIGNED_URL_SECONDS)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"  # the signature must not outlive its check
    return response


@require_safe
def media_serve(request: HttpRequest, path: str) -> HttpResponseBase:
    name = media_name_canonical(path)
    grant = media_grant_for(user=request.user, name=name) if name else None
    if grant is None:
        # Not "forbidden": to someone without the right, it does not exist.
        raise Http404("No such file.")
    if isinstance(grant.fieldfile.storage, FileSystemStorage):
        return _serve_local(request, grant)
    return _redirect_signed(grant)
