"""Turning recordings into the cards the browse pages draw."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Recording, RecordingArtist
from catalog.selectors import ListedRecording, catalog_listing_cached_rows, recording_list_rows


@dataclass(frozen=True)
class TrackCard:
    id: int
    title: str
    artists: str
    genre: str
    moods: list[str]
    tempo_bpm: int | None
    key: str
    duration: str
    remixable: bool
    why_not: str
    hue: int
    url: str


def cover_hue_of(recording_id: int, title: str) -> int:
    """A stable colour per track for the generated cover art."""
    digest = hashlib.sha256(f"{recording_id}:{title}".encode()).digest()
    return digest[0] * 360 // 256


def cover_hue(recording: Recording) -> int:
    return cover_hue_of(recording.pk, recording.title)


def credit_line(mains: Sequence[str], featured: Sequence[str]) -> str:
    """How cards and pages name a track's artists: "A & B feat. C"."""
    names = " & ".join(mains)
    return f"{names} feat. {', '.join(featured)}" if featured else names


def artist_names(recording: Recording) -> str:
    credits = recording.artists.all()
    return credit_line(
        [c.party.name for c in credits if c.role == RecordingArtist.Role.MAIN],
        [c.party.name for c in credits if c.role == RecordingArtist.Role.FEATURED],
    )


def track_card(recording: ListedRecording, *, url_prefix: str) -> TrackCard:
    verdict = recording.verdict
    return TrackCard(
        id=recording.id,
        title=recording.title,
        artists=credit_line(
            recording.artist_names(RecordingArtist.Role.MAIN),
            recording.artist_names(RecordingArtist.Role.FEATURED),
        ),
        genre=recording.genre,
        moods=recording.mood,
        tempo_bpm=recording.tempo_bpm,
        key=recording.key,
        duration=recording.duration_display,
        remixable=verdict.remixable,
        why_not=verdict.why_not,
        hue=cover_hue_of(recording.id, recording.title),
        url=f"{url_prefix}{recording.id}/",
    )


_CARD = (
    '<li class="track-card card">'
    '<a href="{}" class="track-link">'
    '<span class="cover" style="--hue: {}" aria-hidden="true"><span>{}</span></span>'
    '<span class="track-title">{}</span>'
    "</a>"
    '<span class="track-artists">{}</span>'
    '<span class="track-meta">{}</span>'
    "{}"
    "</li>"
)
_REMIXABLE = mark_safe('<span class="badge badge-ok">Remixable</span>')
_NOT_YET = '<span class="badge badge-muted">Not remixable yet</span><span class="why-not">{}</span>'


def card_html(card: TrackCard) -> SafeString:
    """One card of a track grid. Drawn in Python, not a template: a new
    search draws dozens per request, and a template cost five times more."""
    meta = [card.genre, f"{card.tempo_bpm} BPM" if card.tempo_bpm else "", card.key, card.duration]
    badge = _REMIXABLE if card.remixable else format_html(_NOT_YET, card.why_not)
    return format_html(
        _CARD,
        card.url,
        card.hue,
        card.title[:1],
        card.title,
        card.artists,
        " · ".join(part for part in meta if part),
        badge,
    )


def _cards_html(ids: list[int]) -> dict[int, str]:
    # A track's URL is its id after this prefix: one reverse per page, not per card.
    url_prefix = reverse("marketplace:track_detail", args=[0]).removesuffix("0/")
    return {
        row.id: card_html(track_card(row, url_prefix=url_prefix))
        for row in recording_list_rows(ids)
    }


def track_grid(recordings: QuerySet[Recording], *, version: str | None = None) -> tuple[int, str]:
    """How many cards, and their grid as HTML: what lists cache. The page's
    ids come first, in one narrow query; each card's HTML is cached under
    the listing version (`catalog_listing_cached_rows`), so a search nobody
    asked before reads the cards earlier pages drew and draws only the rest.
    `version`: the listing version the page already read, if any."""
    ids = list(recordings.prefetch_related(None).values_list("pk", flat=True))
    if not ids:
        return 0, ""
    drawn = catalog_listing_cached_rows(
        name="track-card", ids=ids, compute=_cards_html, version=version
    )
    cards = [drawn[pk] for pk in ids if pk in drawn]
    return len(cards), render_to_string("marketplace/_track_grid.html", {"cards": cards})
