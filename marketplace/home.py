"""What the home page shows: new and popular remixes, then remixable tracks."""

from __future__ import annotations

from django.http import HttpRequest

from catalog.selectors import catalog_listing_cached, recording_list_newest_remixable
from marketplace.browse.cards import track_grid
from marketplace.discovery.cached_cards import cards_html, is_anonymous
from marketplace.discovery.selectors import (
    remix_cards,
    remix_list,
    remix_popular_ids,
    remixes_by_id,
)
from remixing.published import published_cached

HOME_REMIXES = 6


def _home_remixes() -> tuple[list, list]:
    # The newest ids (a light query), this week's ranking (cached ids), then
    # the remixes of both lists read, and checked as published, in one go.
    new_ids = list(remix_list().prefetch_related(None).values_list("pk", flat=True)[:HOME_REMIXES])
    popular_ids = remix_popular_ids(limit=HOME_REMIXES)
    by_id = remixes_by_id([*new_ids, *popular_ids])
    new = [by_id[pk] for pk in new_ids if pk in by_id]
    popular = [by_id[pk] for pk in popular_ids if pk in by_id][:HOME_REMIXES]
    return new, popular


def _featured() -> tuple[int, str]:
    return catalog_listing_cached(
        name="home",
        params="",
        compute=lambda: track_grid(recording_list_newest_remixable(limit=8)),
    )


def _home_for_visitors() -> dict:
    """What every visitor who is not signed in sees, as HTML."""
    count, grid = _featured()
    new, popular = _home_remixes()
    cards = remix_cards([*new, *popular])  # one set of card queries for both
    return {
        "featured_count": count,
        "featured_grid": grid,
        "new_remixes_html": cards_html(cards[: len(new)], empty="No published remixes yet."),
        "popular_remixes_html": cards_html(cards[len(new) :]) if popular else "",
    }


def home_context(request: HttpRequest) -> dict:
    if is_anonymous(request):
        # Cached under the catalog's and the published remixes' versions: an
        # unpublished remix leaves the home page at its commit.
        return published_cached(name="home", params="", compute=_home_for_visitors)
    count, grid = _featured()
    new, popular = _home_remixes()
    # One set of card queries for both lists (they often share remixes).
    cards = remix_cards([*new, *popular], viewer=request.user)
    return {
        "featured_count": count,
        "featured_grid": grid,
        "new_remixes": cards[: len(new)],
        "popular_remixes": cards[len(new) :],
    }
