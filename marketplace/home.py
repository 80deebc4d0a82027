"""What the home page shows; grows with the catalog."""

from __future__ import annotations

from django.http import HttpRequest


def home_context(request: HttpRequest) -> dict:
    return {"featured_tracks": []}
