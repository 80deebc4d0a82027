"""Browse pages: the catalog with search and filters, and a track's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from catalog.selectors import (
    recording_credits,
    recording_list_remixable,
    recording_queryset_with_credits,
    recording_remixability,
)
from marketplace.browse.cards import artist_names, cover_hue, track_cards
from marketplace.browse.forms import CatalogFilterForm
from marketplace.browse.published import published_remixes_of


def catalog(request: HttpRequest) -> HttpResponse:
    form = CatalogFilterForm(request.GET or None)
    filters: dict = {}
    show_all = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        show_all = data["show_all"]
        filters = {
            name: data[name] or None
            for name in ("q", "genre", "mood", "key", "tempo_min", "tempo_max")
        }
    recordings = recording_list_remixable(remixable_only=not show_all, **filters)
    cards = track_cards(recordings.order_by("title")[:60])
    return render(
        request,
        "marketplace/browse/catalog.html",
        {"form": form, "tracks": cards, "show_all": show_all},
    )


def track_detail(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = get_object_or_404(recording_queryset_with_credits(), pk=recording_id)
    verdict = recording_remixability(recording=recording)
    context = {
        "recording": recording,
        "artists": artist_names(recording),
        "credits": recording_credits(recording=recording),
        "verdict": verdict,
        "hue": cover_hue(recording),
        "remixes": published_remixes_of(recording=recording),
    }
    return render(request, "marketplace/browse/track_detail.html", context)
