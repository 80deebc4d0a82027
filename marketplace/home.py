"""What the home page shows: remixable tracks first."""

from __future__ import annotations

from django.http import HttpRequest

from catalog.selectors import recording_list_remixable
from marketplace.browse.cards import track_cards


def home_context(request: HttpRequest) -> dict:
    recordings = recording_list_remixable(remixable_only=True).order_by("-created_at")[:8]
    return {"featured_tracks": track_cards(recordings)}
