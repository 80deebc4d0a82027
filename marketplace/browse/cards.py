"""Turning recordings into the cards the browse pages draw."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse

from catalog.models import Recording, RecordingArtist
from catalog.selectors import Remixability, recording_remixability_stored


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


def cover_hue(recording: Recording) -> int:
    """A stable colour per track for the generated cover art."""
    digest = hashlib.sha256(f"{recording.pk}:{recording.title}".encode()).digest()
    return digest[0] * 360 // 256


def artist_names(recording: Recording) -> str:
    mains = [c.party.name for c in recording.artists.all() if c.role == RecordingArtist.Role.MAIN]
    featured = [
        c.party.name for c in recording.artists.all() if c.role == RecordingArtist.Role.FEATURED
    ]
    names = " & ".join(mains)
    return f"{names} feat. {', '.join(featured)}" if featured else names


def track_cards(recordings: Sequence[Recording]) -> list[TrackCard]:
    recordings = list(recordings)
    # The stored verdicts: a card costs no query, remixable or not (the
    # track's page gives the full reasons).
    verdicts: dict[int, Remixability] = recording_remixability_stored(recordings)
    cards = []
    for recording in recordings:
        verdict = verdicts[recording.pk]
        cards.append(
            TrackCard(
                id=recording.pk,
                title=recording.title,
                artists=artist_names(recording),
                genre=recording.genre,
                moods=list(recording.mood or []),
                tempo_bpm=recording.tempo_bpm,
                key=recording.key,
                duration=recording.duration_display,
                remixable=verdict.remixable,
                why_not=verdict.why_not,
                hue=cover_hue(recording),
                url=reverse("marketplace:track_detail", args=[recording.pk]),
            )
        )
    return cards


def track_grid(recordings: Sequence[Recording]) -> tuple[int, str]:
    """How many cards, and their grid as HTML: what lists cache (rendering
    the cards costs more than finding them)."""
    cards = track_cards(recordings)
    html = render_to_string("marketplace/_track_grid.html", {"tracks": cards}) if cards else ""
    return len(cards), html
