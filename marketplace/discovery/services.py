"""Writes for discovery: follows, likes, weekly plays, notices.

Each write inserts a row that a unique constraint allows once (the insert
ignores a conflict), so a double click, a retried request or two concurrent
requests change nothing twice; every count is a COUNT over those rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog.models import Party, Recording, RecordingArtist
from core.errors import DomainError, NotFound
from marketplace.discovery.selectors import week_start
from marketplace.models import Follow, Notice, RemixLike, RemixWeeklyPlay
from remixing.models import Remix
from remixing.published import remixes_published_changed

# A catalog-wide grant may cover hundreds of tracks: followers hear of the newest.
NOTICE_TRACKS_PER_EVENT = 10


def _artist_or_404(party_id: int) -> Party:
    party = Party.objects.filter(pk=party_id, kind=Party.Kind.ARTIST).first()
    if party is None:
        raise NotFound("No such artist.")
    return party


def follow_artist(*, follower, party_id: int, follow: bool = True) -> bool:
    """Follow (or stop following) an artist; idempotent. Returns the new state."""
    party = _artist_or_404(party_id)
    if follow:
        Follow.objects.bulk_create([Follow(follower=follower, artist=party)], ignore_conflicts=True)
    else:
        Follow.objects.filter(follower=follower, artist=party).delete()
    return follow


def follow_remixer(*, follower, remixer_id: int, follow: bool = True) -> bool:
    """Follow (or stop following) a remixer; idempotent. Returns the new state."""
    remixer = get_user_model().objects.filter(pk=remixer_id, is_active=True).first()
    if remixer is None:
        raise NotFound("Nobody has this handle.")
    if remixer.pk == follower.pk:
        raise DomainError("You cannot follow yourself.", code="follow_self")
    if follow:
        Follow.objects.bulk_create(
            [Follow(follower=follower, remixer=remixer)], ignore_conflicts=True
        )
    else:
        Follow.objects.filter(follower=follower, remixer=remixer).delete()
    return follow


def remix_like(*, user, remix_id: int, like: bool = True) -> int:
    """Like (or unlike) a published remix; idempotent. Returns its like count."""
    if not Remix.objects.filter(pk=remix_id, status=Remix.Status.PUBLISHED).exists():
        raise NotFound("Remix not found.")
    if like:
        RemixLike.objects.bulk_create(
            [RemixLike(user=user, remix_id=remix_id)], ignore_conflicts=True
        )
    else:
        RemixLike.objects.filter(user=user, remix_id=remix_id).delete()
    remixes_published_changed()  # cards and the remix's page show the count
    return RemixLike.objects.filter(remix_id=remix_id).count()


def remix_weekly_play_record(*, remix_id: int, listener: str) -> None:
    """Count this listener once for this remix this week (remixing's play
    signal calls it for every play it accepted)."""
    RemixWeeklyPlay.objects.bulk_create(
        [RemixWeeklyPlay(remix_id=remix_id, listener=listener, week_start=week_start())],
        ignore_conflicts=True,
    )
    # This week's listeners and the ranking (a play also changed the remix's
    # play count, which its page shows).
    remixes_published_changed()


def notices_new_tracks(*, recording_ids: Iterable[int]) -> int:
    """Tell the followers of each recording's main artists that it can be
    remixed now. Only tracks remixable now; one notice per track per person."""
    recordings = list(
        Recording.objects.filter(pk__in=list(recording_ids), is_remixable=True).order_by(
            "-created_at", "-id"
        )[:NOTICE_TRACKS_PER_EVENT]
    )
    if not recordings:
        return 0
    credits = RecordingArtist.objects.filter(
        recording__in=recordings, role=RecordingArtist.Role.MAIN
    ).values_list("recording_id", "party_id")
    by_party: dict[int, list[int]] = {}
    for recording_id, party_id in credits:
        by_party.setdefault(party_id, []).append(recording_id)
    follows = Follow.objects.filter(artist_id__in=list(by_party)).values_list(
        "follower_id", "artist_id"
    )
    notices = [
        Notice(
            recipient_id=follower_id,
            kind=Notice.Kind.NEW_TRACK,
            artist_id=party_id,
            recording_id=recording_id,
        )
        for follower_id, party_id in follows
        for recording_id in by_party[party_id]
    ]
    Notice.objects.bulk_create(notices, ignore_conflicts=True)
    return len(notices)


def notices_new_remix(*, remix_id: int) -> int:
    """Tell a remixer's followers about a remix they published."""
    remix = Remix.objects.filter(pk=remix_id, status=Remix.Status.PUBLISHED).first()
    if remix is None:
        return 0
    followers = Follow.objects.filter(remixer_id=remix.fan_id).values_list("follower_id", flat=True)
    notices = [
        Notice(recipient_id=follower_id, kind=Notice.Kind.NEW_REMIX, remix=remix)
        for follower_id in followers
    ]
    Notice.objects.bulk_create(notices, ignore_conflicts=True)
    return len(notices)


@transaction.atomic
def notices_mark_read(*, user) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
