"""Serving local media (demo and tests) with the same rights the pages enforce.

Official stems and lossless separated stems are the rights holders' material:
they never leave the server except to staff. Stem previews are for fans who may
open the studio; a rendered remix is for its fan until it is published. In
production media lives on S3 behind signed URLs handed out by these same pages.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
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


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    if not media_path_allowed(user=request.user, path=path):
        # Not "forbidden": to someone without the right, it does not exist.
        raise Http404("No such file.")
    return serve(request, path, document_root=settings.MEDIA_ROOT)
