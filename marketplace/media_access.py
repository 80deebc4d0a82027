"""Who may read a media file: decided by the database row that owns it.

The requested name only says where to look (each owner keeps its files under
its own folder); the decision comes from the row whose file field holds
exactly that name, and from the requester's rights over that row. A name no
row owns does not exist, whatever lies on disk.

Rights (staff and auditors may read everything):
- a recording's master and its official stems: the recording's verified
  artists;
- separated stems: the compressed preview to whoever may open the studio; the
  lossless file to nobody else (rendering reads it on the server);
- a remix's files: its fan; once published, its MP3 and Ogg to everyone (the
  lossless WAV stays the fan's);
- a fan's cover takes (their recorded vocals): that fan only, never public;
- a recording's lossy previews: the short excerpt to everyone, the full length
  to whoever may open the studio and to the recording's artists; under a
  takedown, to the artists only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, Q

from catalog.models import OfficialStem, Recording, RecordingArtist, Takedown
from remixing.access import studio_blockers
from remixing.models import CoverTake, RecordingPreview, Remix, Stem
from remixing.storage import media_url


@dataclass(frozen=True)
class MediaGrant:
    row: Model
    field: str
    public: bool  # readable by anyone: shared caches may keep it

    @property
    def fieldfile(self):
        return getattr(self.row, self.field)


def _is_staff(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.is_auditor)


def _is_artist_of(user, recording_id: int) -> bool:
    return (
        user.is_authenticated
        and RecordingArtist.objects.filter(
            recording_id=recording_id, party__user=user, party__claim_verified=True
        ).exists()
    )


def _may_open_studio(user) -> bool:
    return user.is_authenticated and not studio_blockers(user=user)


def _master_rule(user, row: Recording, field: str) -> bool:
    return _is_artist_of(user, row.pk)


def _official_stem_rule(user, row: OfficialStem, field: str) -> bool:
    return _is_artist_of(user, row.recording_id)


def _stem_rule(user, row: Stem, field: str) -> bool:
    return field in ("preview", "preview_mp3") and _may_open_studio(user)


def _remix_rule(user, row: Remix, field: str) -> bool:
    return user.is_authenticated and row.fan_id == user.pk


def _cover_take_rule(user, row: CoverTake, field: str) -> bool:
    # The fan's own data: the fan who recorded it, on their own remix.
    return user.is_authenticated and row.fan_id == user.pk


def _taken_down(recording_id: int) -> bool:
    return Takedown.objects.filter(recording_id=recording_id, lifted_event__isnull=True).exists()


def _recording_preview_rule(user, row: RecordingPreview, field: str) -> bool:
    if _is_artist_of(user, row.recording_id):
        return True
    return _may_open_studio(user) and not _taken_down(row.recording_id)


def _remix_public(row: Remix, field: str) -> bool:
    return row.status == Remix.Status.PUBLISHED and field in ("output_mp3", "output_ogg")


def _recording_preview_public(row: RecordingPreview, field: str) -> bool:
    # A takedown removes the track from the public, its excerpt included.
    return field == "excerpt" and not _taken_down(row.recording_id)


def _never_public(row: Model, field: str) -> bool:
    return False


@dataclass(frozen=True)
class MediaOwner:
    folder: re.Pattern  # where this owner keeps files; "key" narrows the rows
    model: type[Model]
    fields: tuple[str, ...]
    key: str | None
    may_read: Callable[..., bool]
    public: Callable[[Model, str], bool] = _never_public


# Every FileField in the project has exactly one owner here
# (tests/marketplace/test_media.py checks none is forgotten).
MEDIA_OWNERS = (
    MediaOwner(re.compile(r"catalog/recordings/[^/]+"), Recording, ("audio",), None, _master_rule),
    MediaOwner(
        re.compile(r"catalog/stems/[^/]+"), OfficialStem, ("file",), None, _official_stem_rule
    ),
    MediaOwner(
        re.compile(r"remixing/stems/(?P<key>\d+)/[^/]+"),
        Stem,
        ("lossless", "preview", "preview_mp3"),
        "stem_set_id",
        _stem_rule,
    ),
    MediaOwner(
        re.compile(r"remixing/remixes/(?P<key>\d+)/[^/]+"),
        Remix,
        ("output_mp3", "output_ogg", "output_wav"),
        "pk",
        _remix_rule,
        _remix_public,
    ),
    MediaOwner(
        re.compile(r"remixing/covers/(?P<key>\d+)/[^/]+"),
        CoverTake,
        ("audio",),
        "remix_id",
        _cover_take_rule,
    ),
    MediaOwner(
        re.compile(r"remixing/previews/(?P<key>\d+)/[^/]+"),
        RecordingPreview,
        ("full", "excerpt"),
        "recording_id",
        _recording_preview_rule,
        _recording_preview_public,
    ),
)


def media_owner_find(*, name: str) -> tuple[Model, str, MediaOwner] | None:
    """The row whose file field holds exactly `name` (a canonical name)."""
    for owner in MEDIA_OWNERS:
        match = owner.folder.fullmatch(name)
        if match is None:
            continue
        rows = owner.model.objects.all()
        if owner.key:
            rows = rows.filter(**{owner.key: int(match["key"])})
        holds = Q()
        for field in owner.fields:
            holds |= Q(**{field: name})
        row = rows.filter(holds).first()
        if row is not None:
            field = next(f for f in owner.fields if getattr(row, f).name == name)
            return row, field, owner
    return None


def media_grant_for(*, user, name: str) -> MediaGrant | None:
    """What `user` may read under `name`, or None: no such file for them."""
    found = media_owner_find(name=name)
    if found is None:
        return None
    row, field, owner = found
    public = owner.public(row, field)
    if public or _is_staff(user) or owner.may_read(user, row, field):
        return MediaGrant(row=row, field=field, public=public)
    return None


@dataclass(frozen=True)
class OriginalPlayer:
    """What the track page's "listen to the original" plays to this user."""

    url: str  # empty while the preview is being made
    full: bool
    excerpt_s: float | None


def original_player_for(*, user, preview: RecordingPreview | None) -> OriginalPlayer | None:
    """The full-length preview to those the media view would serve it to,
    the excerpt to everyone else; never the master."""
    if preview is None:
        return None
    if not preview.is_ready:
        return OriginalPlayer(url="", full=False, excerpt_s=None)
    if preview.full and (_is_staff(user) or _recording_preview_rule(user, preview, "full")):
        return OriginalPlayer(url=media_url(preview.full), full=True, excerpt_s=None)
    if not _recording_preview_public(preview, "excerpt"):
        return None
    return OriginalPlayer(url=media_url(preview.excerpt), full=False, excerpt_s=preview.excerpt_s)
