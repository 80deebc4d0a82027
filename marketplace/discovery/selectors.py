"""Reads for discovery: remix lists, cards, search, profiles, the feed.

Every list starts from `remixes_published()`: the published state is checked
when the list is read, so a remix unpublished by a revocation is gone from
every list, feed, profile and embed at the next request. Each page costs a
fixed number of queries however many remixes exist (cards are built in bulk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from catalog.models import Party, Recording, RecordingArtist, WorkWriter
from catalog.selectors import Credits, recording_credits_listed
from marketplace.models import Follow, Notice, RemixLike, RemixWeeklyPlay
from remixing.engine.presets import PRESETS
from remixing.models import Remix
from remixing.published import published_cached

PAGE_SIZE = 24
POPULAR_SPARE = 6
FACET_LIMIT = 100
PUBLISHED = Remix.Status.PUBLISHED


def _cached(key: str, compute: Callable[[], object]) -> object:
    """`compute()` cached for CATALOG_LIST_CACHE_SECONDS (off in tests). Only
    for what a stale read cannot wrongly show: rankings that are re-checked
    against the published state, and filter choices."""
    seconds = settings.CATALOG_LIST_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def week_start(today: date | None = None) -> date:
    """Monday of the current week (UTC): plays count once per listener per week."""
    today = today or timezone.now().date()
    return today - timedelta(days=today.weekday())


def remixes_published() -> QuerySet[Remix]:
    """Published remixes with what their cards need, in a fixed number of queries."""
    return (
        Remix.objects.filter(status=PUBLISHED)
        .select_related("fan", "recording__work", "parent__fan")
        .prefetch_related(
            Prefetch(
                "recording__artists",
                queryset=RecordingArtist.objects.select_related("party").order_by("order", "id"),
            ),
            Prefetch(
                "recording__work__writers", queryset=WorkWriter.objects.select_related("party")
            ),
        )
        .order_by("-published_at", "-id")
    )


def _search(q: str) -> Q:
    text = " ".join(q.lower().split())
    # The recording's stored search text names its title, artists, work,
    # songwriters and identifiers (catalog keeps it current).
    return (
        Q(title__icontains=text)
        | Q(recording__search_text__contains=text)
        | Q(fan__handle__icontains=text)
        | Q(fan__display_name__icontains=text)
    )


def remix_list(
    *,
    q: str | None = None,
    recording_id: int | None = None,
    artist_id: int | None = None,
    mood: str | None = None,
    preset: str | None = None,
    fan_id: int | None = None,
) -> QuerySet[Remix]:
    """Published remixes, newest first, filtered."""
    qs = remixes_published()
    if q and q.strip():
        qs = qs.filter(_search(q))
    if recording_id:
        qs = qs.filter(recording_id=recording_id)
    if artist_id:
        credited = RecordingArtist.objects.filter(
            recording_id=OuterRef("recording_id"), party_id=artist_id
        )
        qs = qs.filter(Exists(credited))
    if mood:
        qs = qs.filter(recording__mood__icontains=f'"{mood.strip().lower()}"')
    if preset:
        qs = qs.filter(preset=preset)
    if fan_id:
        qs = qs.filter(fan_id=fan_id)
    return qs


def _popular_ids(*, week: date, limit: int, **filters) -> list[int]:
    ranked = (
        RemixWeeklyPlay.objects.filter(
            week_start=week, remix__in=remix_list(**filters).values("pk")
        )
        .values("remix_id")
        .annotate(listeners=Count("id"))
        .order_by("-listeners", "-remix_id")
        .values_list("remix_id", flat=True)[:limit]
    )
    return list(ranked)


def remix_popular_ids(*, limit: int = PAGE_SIZE, **filters) -> list[int]:
    """Ids of the remixes with the most listeners this week (each listener
    counted once per remix per week), most first, published when counted.

    The unfiltered ranking (home, the remixes page) counts every play of the
    week, so it is cached (see `remixing.published`), with a few spare ids:
    callers read the remixes through `remixes_by_id`, which checks the
    published state."""
    week = week_start()
    if any(filters.values()):
        return _popular_ids(week=week, limit=limit, **filters)
    # Under the published remixes' version, which every counted listener
    # replaces: the ranking is exact.
    return published_cached(
        name="popular",
        params=f"{week.isoformat()}:{limit}",
        compute=lambda: _popular_ids(week=week, limit=limit + POPULAR_SPARE),
    )


def remixes_by_id(ids: Sequence[int]) -> dict[int, Remix]:
    """The published ones among `ids`, with what their cards need."""
    return {r.pk: r for r in remixes_published().filter(pk__in=list(ids))}


def remix_list_popular(*, limit: int = PAGE_SIZE, **filters) -> list[Remix]:
    """Published remixes with the most listeners this week, most first."""
    ids = remix_popular_ids(limit=limit, **filters)
    by_id = remixes_by_id(ids)
    return [by_id[pk] for pk in ids if pk in by_id][:limit]


@dataclass(frozen=True)
class Person:
    handle: str
    name: str
    url: str


@dataclass(frozen=True)
class RemixCard:
    id: int
    share_slug: str
    title: str
    url: str
    remixer: Person
    recording_title: str
    recording_url: str
    credits: Credits
    preset: str
    moods: list[str]
    published_at: object
    likes: int
    plays_this_week: int
    play_count: int
    liked: bool
    inspired_by: dict | None = None
    hue: int = 0


def person_of(user) -> Person:
    return Person(
        handle=user.handle,
        name=user.public_name,
        url=reverse("marketplace:person", args=[user.handle]),
    )


def _counts(model, ids: list[int], **extra) -> dict[int, int]:
    rows = model.objects.filter(remix_id__in=ids, **extra).values("remix_id")
    return dict(rows.annotate(n=Count("id")).values_list("remix_id", "n"))


def like_count(*, remix_id: int) -> int:
    return RemixLike.objects.filter(remix_id=remix_id).count()


def is_liked(*, viewer, remix_id: int) -> bool:
    if not getattr(viewer, "is_authenticated", False):
        return False
    return RemixLike.objects.filter(user=viewer, remix_id=remix_id).exists()


def inspired_by(remix: Remix) -> dict | None:
    """What a fork credits: its parent, named only while the parent is published."""
    parent = remix.parent
    if parent is None:
        return None
    if parent.status != PUBLISHED:
        return {"title": "", "url": "", "remixer": None}
    return {
        "title": parent.title,
        "url": reverse("remixing:public_remix", args=[parent.share_slug]),
        "remixer": person_of(parent.fan),
    }


def remix_cards(remixes: Sequence[Remix], *, viewer=None) -> list[RemixCard]:
    """Cards for a page of remixes: four queries for any number (credits'
    fallback writers, likes, this week's listeners, the viewer's likes)."""
    remixes = list(remixes)
    if not remixes:
        return []
    ids = [r.pk for r in remixes]
    recordings = list({r.recording_id: r.recording for r in remixes}.values())
    credits = recording_credits_listed(recordings)
    likes = _counts(RemixLike, ids)
    plays = _counts(RemixWeeklyPlay, ids, week_start=week_start())
    liked: set[int] = set()
    if getattr(viewer, "is_authenticated", False):
        liked = set(
            RemixLike.objects.filter(user=viewer, remix_id__in=ids).values_list(
                "remix_id", flat=True
            )
        )
    return [
        RemixCard(
            id=r.pk,
            share_slug=r.share_slug,
            title=r.title or "Untitled remix",
            url=reverse("remixing:public_remix", args=[r.share_slug]),
            remixer=person_of(r.fan),
            recording_title=r.recording.title,
            recording_url=reverse("marketplace:track_detail", args=[r.recording_id]),
            credits=credits[r.recording_id],
            preset=PRESETS[r.preset].name if r.preset in PRESETS else "",
            moods=list(r.recording.mood or []),
            published_at=r.published_at,
            likes=likes.get(r.pk, 0),
            plays_this_week=plays.get(r.pk, 0),
            play_count=r.play_count,
            liked=r.pk in liked,
            inspired_by=inspired_by(r),
            hue=(r.pk * 47) % 360,
        )
        for r in remixes
    ]


@dataclass(frozen=True)
class RemixFacets:
    moods: list[str]
    presets: list[tuple[str, str]]
    artists: list[tuple[int, str]]
    tracks: list[tuple[int, str]]


def remix_facets() -> RemixFacets:
    """Choices for the remixes page's filters: only what published remixes
    have. Four scans of the published remixes, so cached briefly: a stale
    choice only filters to an empty list (the list itself is never cached)."""
    return _cached("discovery:remix-facets", _remix_facets)


def _remix_facets() -> RemixFacets:
    published = Remix.objects.filter(status=PUBLISHED)
    recording_ids = published.values("recording_id")
    # The tracks and artists with the most published remixes: a select that
    # listed every one would weigh megabytes at catalog size (any id still
    # filters: the form takes it, and names it, when it is not listed).
    tracks = sorted(
        Recording.objects.filter(remixes__status=PUBLISHED)
        .annotate(n=Count("remixes"))
        .order_by("-n", "title", "pk")
        .values_list("pk", "title")[:FACET_LIMIT],
        key=lambda row: (row[1], row[0]),
    )
    artists = sorted(
        Party.objects.filter(
            recording_credits__role=RecordingArtist.Role.MAIN,
            recording_credits__recording__remixes__status=PUBLISHED,
        )
        .annotate(n=Count("recording_credits__recording__remixes", distinct=True))
        .order_by("-n", "name", "pk")
        .values_list("pk", "name")[:FACET_LIMIT],
        key=lambda row: (row[1], row[0]),
    )
    moods = sorted(
        {
            m
            for tags in Recording.objects.filter(pk__in=recording_ids).values_list(
                "mood", flat=True
            )
            for m in (tags or [])
        }
    )
    # order_by(): the model's default ordering would join the DISTINCT.
    used = set(published.exclude(preset="").order_by().values_list("preset", flat=True).distinct())
    presets = [(slug, p.name) for slug, p in PRESETS.items() if slug in used]
    return RemixFacets(moods=moods, presets=presets, artists=artists, tracks=tracks)


# --- Profiles -------------------------------------------------------------------


@dataclass
class ArtistSummary:
    party: Party
    url: str
    track_count: int
    fans_remixed: int
    followers: int
    earnings: list = field(default_factory=list)  # royalties' Totals, owner only


def fans_who_remixed(*, party_ids: list[int]) -> dict[int, int]:
    """party id -> how many different fans published a remix of its tracks."""
    rows = (
        Remix.objects.filter(
            status=PUBLISHED,
            recording__artists__party_id__in=party_ids,
            recording__artists__role=RecordingArtist.Role.MAIN,
        )
        .values("recording__artists__party_id")
        .annotate(n=Count("fan_id", distinct=True))
        .values_list("recording__artists__party_id", "n")
    )
    return dict(rows)


def artist_summaries(parties: Sequence[Party]) -> list[ArtistSummary]:
    ids = [p.pk for p in parties]
    if not ids:
        return []
    tracks = dict(
        RecordingArtist.objects.filter(party_id__in=ids, role=RecordingArtist.Role.MAIN)
        .values("party_id")
        .annotate(n=Count("recording_id", distinct=True))
        .values_list("party_id", "n")
    )
    fans = fans_who_remixed(party_ids=ids)
    followers = dict(
        Follow.objects.filter(artist_id__in=ids)
        .values("artist_id")
        .annotate(n=Count("id"))
        .values_list("artist_id", "n")
    )
    return [
        ArtistSummary(
            party=p,
            url=reverse("marketplace:artist", args=[p.pk]),
            track_count=tracks.get(p.pk, 0),
            fans_remixed=fans.get(p.pk, 0),
            followers=followers.get(p.pk, 0),
        )
        for p in parties
    ]


def follower_count(*, remixer=None, artist: Party | None = None) -> int:
    if artist is not None:
        return Follow.objects.filter(artist=artist).count()
    return Follow.objects.filter(remixer=remixer).count()


def is_following(*, viewer, remixer=None, artist: Party | None = None) -> bool:
    if not getattr(viewer, "is_authenticated", False):
        return False
    if artist is not None:
        return Follow.objects.filter(follower=viewer, artist=artist).exists()
    return Follow.objects.filter(follower=viewer, remixer=remixer).exists()


def following_of(*, user) -> dict[str, list]:
    """Who a person follows: artists (parties) and remixers (people)."""
    rows = Follow.objects.filter(follower=user).select_related("artist", "remixer")
    artists = [f.artist for f in rows if f.artist_id]
    remixers = [person_of(f.remixer) for f in rows if f.remixer_id and f.remixer.is_active]
    return {"artists": artists, "remixers": remixers}


def remixes_liked_by(*, user, limit: int = PAGE_SIZE) -> list[Remix]:
    liked = RemixLike.objects.filter(user=user, remix_id=OuterRef("pk"))
    return list(remixes_published().filter(Exists(liked))[:limit])


# --- The following feed and notices ----------------------------------------------


def feed_for(*, user, limit: int = 50) -> list[Remix]:
    """Published remixes by remixers the person follows, and of tracks by
    artists they follow, newest first."""
    by_remixer = Follow.objects.filter(follower=user, remixer_id=OuterRef("fan_id"))
    by_artist = Follow.objects.filter(
        follower=user,
        artist_id__in=RecordingArtist.objects.filter(
            recording_id=OuterRef(OuterRef("recording_id"))
        ).values("party_id"),
    )
    # The person's own remixes of those artists show too: a fork they just
    # published sits in the feed beside what inspired it.
    qs = remixes_published().filter(Q(Exists(by_remixer)) | Q(Exists(by_artist)))
    return list(qs[:limit])


def notices_for(*, user, limit: int = 30) -> QuerySet[Notice]:
    """The person's notices, leaving out any whose remix is no longer
    published or whose track can no longer be remixed."""
    visible = (Q(kind=Notice.Kind.NEW_REMIX) & Q(remix__status=PUBLISHED)) | (
        Q(kind=Notice.Kind.NEW_TRACK) & Q(recording__is_remixable=True)
    )
    return (
        Notice.objects.filter(visible, recipient=user)
        .select_related("artist", "recording", "remix__fan")
        .order_by("-created_at", "-id")[:limit]
    )
