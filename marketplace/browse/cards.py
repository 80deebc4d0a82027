"""Turning recordings into the cards the browse pages draw."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from html import escape

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from catalog.models import Recording, RecordingArtist
from catalog.selectors import ListedRecording, catalog_listing_cached_rows, recording_list_rows


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


_CARD = (
    '<li class="track-card card">'
    '<a href="{url}" class="track-link">'
    '<span class="cover" style="--hue: {hue}" aria-hidden="true"><span>{initial}</span></span>'
    '<span class="track-title">{title}</span>'
    "</a>"
    '<span class="track-artists">{artists}</span>'
    '<span class="track-meta">{meta}</span>'
    "{badge}"
    "</li>"
)
_REMIXABLE = '<span class="badge badge-ok">Remixable</span>'
_NOT_YET = '<span class="badge badge-muted">Not remixable yet</span><span class="why-not">{}</span>'


def card_html(recording: ListedRecording, *, url_prefix: str) -> str:
    """One card of a track grid, as HTML (every text escaped here). Drawn in
    Python with the standard library's escape, not a template nor
    format_html: a new search draws dozens per request, and those cost
    three to five times more per card."""
    verdict = recording.verdict
    artists = credit_line(
        recording.artist_names(RecordingArtist.Role.MAIN),
        recording.artist_names(RecordingArtist.Role.FEATURED),
    )
    tempo = f"{recording.tempo_bpm} BPM" if recording.tempo_bpm else ""
    meta = (recording.genre, tempo, recording.key, recording.duration_display)
    return _CARD.format(
        url=f"{url_prefix}{recording.id}/",
        hue=cover_hue_of(recording.id, recording.title),
        initial=escape(recording.title[:1]),
        title=escape(recording.title),
        artists=escape(artists),
        meta=escape(" · ".join(part for part in meta if part)),
        badge=_REMIXABLE if verdict.remixable else _NOT_YET.format(escape(verdict.why_not)),
    )


def _cards_html(ids: list[int]) -> dict[int, str]:
    # A track's URL is its id after this prefix: one reverse per page, not per card.
    url_prefix = escape(reverse("marketplace:track_detail", args=[0]).removesuffix("0/"))
    return {row.id: card_html(row, url_prefix=url_prefix) for row in recording_list_rows(ids)}


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
    # Every card's text was escaped as it was drawn (card_html).
    grid = mark_safe("".join(cards))  # noqa: S308
    return len(cards), render_to_string("marketplace/_track_grid.html", {"cards": grid})
