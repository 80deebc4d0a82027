"""Serving local media (demo and tests) with the same rights the pages enforce.

Official stems and lossless separated stems are the rights holders' material:
they never leave the server except to staff. Stem previews are for fans who may
open the studio; a rendered remix is for its fan until it is published. In
production media lives on S3 behind signed URLs handed out by these same pages.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils._os import safe_join
from django.views.static import serve

from catalog.models import OfficialStem, RecordingArtist
from remixing.access import studio_blockers
from remixing.models import Remix

_REMIX_FILE = re.compile(r"^remixing/remixes/(?P<remix_id>\d+)/[^/]+$")
_STEM_PREVIEW = re.compile(r"^remixing/stems/\d+/[^/]+\.preview\.[a-z0-9]+$")


def _is_staff(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.is_auditor)


def media_path_allowed(*, user, path: str) -> bool:
    if path.startswith("catalog/recordings/"):
        return True  # the original's player on the public track page
    if match := _REMIX_FILE.match(path):
        remix = Remix.objects.filter(pk=int(match["remix_id"])).first()
        if remix is None:
            return False
        owner = user.is_authenticated and remix.fan_id == user.pk
        return remix.status == Remix.Status.PUBLISHED or owner or _is_staff(user)
    if _is_staff(user):
        return True
    if not user.is_authenticated:
        return False
    if path.startswith("catalog/stems/"):
        stem = OfficialStem.objects.filter(file=path).select_related("recording").first()
        return (
            stem is not None
            and RecordingArtist.objects.filter(
                recording=stem.recording, party__user=user, party__claim_verified=True
            ).exists()
        )
    if _STEM_PREVIEW.match(path):
        return not studio_blockers(user=user)
    return False


_RANGE = re.compile(r"^bytes=(?P<start>\d*)-(?P<end>\d*)$")


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


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    if not media_path_allowed(user=request.user, path=path):
        # Not "forbidden": to someone without the right, it does not exist.
        raise Http404("No such file.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Accept-Ranges"] = "bytes"
    header = request.headers.get("Range", "")
    if not header or response.status_code != 200:
        return response
    full = Path(safe_join(settings.MEDIA_ROOT, path))
    size = full.stat().st_size
    wanted = _byte_range(header, size)
    if wanted is None:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    start, end = wanted
    with full.open("rb") as handle:
        handle.seek(start)
        body = handle.read(end - start + 1)
    partial = HttpResponse(body, status=206, content_type=response["Content-Type"])
    partial["Content-Range"] = f"bytes {start}-{end}/{size}"
    partial["Accept-Ranges"] = "bytes"
    return partial
