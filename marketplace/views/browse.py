"""Browse pages: the catalog with search and filters, and a track's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from catalog.selectors import (
    catalog_listing_page,
    catalog_listing_page_store,
    recording_credits,
    recording_list_remixable,
    recording_queryset_with_credits,
    recording_remixability_listed,
    recording_search_may_retry,
)
from marketplace.browse.cards import artist_names, cover_hue, track_grid
from marketplace.browse.forms import CatalogFilterForm
from marketplace.discovery.cached_cards import is_anonymous, remix_cards_html
from marketplace.discovery.selectors import remix_cards, remix_list
from marketplace.media_access import original_player_for
from remixing.published import published_cached
from remixing.services.previews import recording_preview_request

# Bounded: the page shows the first matches; filters narrow the rest.
PAGE_SIZE = 60
TRACK_REMIXES = 60


def _grid(filters: dict, *, show_all: bool, version: str) -> tuple[int, str]:
    found = recording_list_remixable(remixable_only=not show_all, **filters)
    count, grid = track_grid(found[:PAGE_SIZE], version=version)
    if not count and recording_search_may_retry(filters.get("q")):
        # Nothing as typed: one more try that forgives a typo.
        found = recording_list_remixable(remixable_only=not show_all, typos=True, **filters)
        count, grid = track_grid(found[:PAGE_SIZE], version=version)
    return count, grid


def catalog(request: HttpRequest) -> HttpResponse:
    # The listing version and this query's page, in one cache round trip;
    # the version serves every cached part of the page (the grid, its cards,
    # the filter choices). Keyed by the query as sent: the page it shows
    # depends only on it and the version.
    query = request.META.get("QUERY_STRING", "")
    version, page = catalog_listing_page(name="browse", params=query)
    form = CatalogFilterForm(request.GET or None, listing_version=version)
    filters: dict = {}
    show_all = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        show_all = data["show_all"]
        filters = {
            name: data[name] or None
            for name in ("q", "genre", "mood", "key", "tempo_min", "tempo_max")
        }
    if page is None:
        page = _grid(filters, show_all=show_all, version=version)
        catalog_listing_page_store(name="browse", params=query, version=version, value=page)
    count, grid = page
    return render(
        request,
        "marketplace/browse/catalog.html",
        {
            "form": form,
            "track_count": count,
            "track_grid": grid,
            "show_all": show_all,
        },
    )


def track_detail(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = get_object_or_404(recording_queryset_with_credits(), pk=recording_id)
    # The stored verdict when it says remixable and is current (kept in the
    # transaction of every change that can alter it; the studio asks the rule
    # again at its door); the rule otherwise, for its reasons.
    verdict = recording_remixability_listed([recording])[recording.pk]
    preview = recording_preview_request(recording=recording)  # made once, queued if missing
    context: dict = {
        "player": original_player_for(user=request.user, preview=preview),
        "recording": recording,
        "artists": artist_names(recording),
        "credits": recording_credits(recording=recording),
        "verdict": verdict,
        "hue": cover_hue(recording),
    }
    rows = lambda: list(remix_list(recording_id=recording.pk)[:TRACK_REMIXES])  # noqa: E731
    if is_anonymous(request):
        # The same for every visitor: cached exactly (remixing.published).
        context["remixes_html"] = published_cached(
            name="track-remixes",
            params=str(recording.pk),
            compute=lambda: remix_cards_html(rows(), empty="No published remixes yet."),
        )
    else:
        context["remixes"] = remix_cards(rows(), viewer=request.user)
    return render(request, "marketplace/browse/track_detail.html", context)
