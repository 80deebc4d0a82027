"""The discovery pages cost the same number of queries however many tracks,
remixes, likes and plays exist (cards, credits and counts are read in bulk)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.discovery.selectors import week_start
from marketplace.models import RemixLike, RemixWeeklyPlay
from remixing.models import Remix
from tests.marketplace.discovery.world import (
    artist_with_user,
    fan_with_handle,
    opt_in,
    published,
    remixable_track,
)

pytestmark = pytest.mark.django_db

# Exact, with the list cache off (as in tests): a change here is a change in
# the pages' cost, to be made on purpose. A track grid: the page's ids, then
# the cards' rows with their artists, one query (with the cache on, only for cards no page
# drew lately: tests/marketplace/test_catalog_at_scale.py). Home: the
# featured grid, the newest remix ids, this week's ranking, the remixes of both
# lists (with their recordings' artists and writers), then one set of card
# queries for both (likes, this week's plays).
ANONYMOUS = {
    "/": 9,
    "/remixes/": 9,
    "/remixes/?sort=popular": 10,
    "/search/?q=velvet": 9,
    "/tracks/": 5,
}
# Signed in: the session, the user, and which of the cards the viewer liked.
SIGNED_IN = {"/": 12, "/remixes/": 12}


def _world(size: int):
    fans = [fan_with_handle(f"fan{n}") for n in range(3)]
    remixes = []
    for n in range(size):
        user, artist = artist_with_user(f"Artist {n}")
        opt_in(artist, user)
        track = remixable_track(title=f"Velvet Song {n}", artist=artist, writer=f"Writer {n % 4}")
        remix = published(track, fans[n % 3], f"Velvet Remix {n}", preset="club")
        if remixes and n % 3 == 0:
            remix.parent = remixes[-1]
            remix.save(update_fields=["parent"])
        remixes.append(remix)
        for fan in fans:
            RemixLike.objects.create(user=fan, remix=remix)
            RemixWeeklyPlay.objects.create(
                remix=remix, listener=fan.handle, week_start=week_start()
            )
    return fans, remixes


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("size", [2, 24])
def test_discovery_pages_cost_the_same_at_any_size(client, size):
    cache.clear()
    fans, remixes = _world(size)
    assert Remix.objects.filter(status="published").count() == size
    assert {url: _queries(client, url) for url in ANONYMOUS} == ANONYMOUS
    # A published remix: the remix with its credits (3), its likes.
    for remix in (remixes[0], remixes[-1]):
        assert _queries(client, f"/studio/r/{remix.share_slug}/") == 4
    client.force_login(fans[0])
    assert {url: _queries(client, url) for url in SIGNED_IN} == SIGNED_IN


def test_home_shows_both_remix_lists_from_one_set_of_cards(client):
    _, remixes = _world(3)
    RemixWeeklyPlay.objects.create(remix=remixes[0], listener="extra", week_start=week_start())
    page = client.get("/").content.decode()
    # The most played remix heads "popular" though it is the oldest of "new".
    popular = page.split('id="popular-title"', 1)[1]
    assert popular.index("Velvet Remix 0") < popular.index("Velvet Remix 2")
    for remix in remixes:
        assert page.count(remix.title) >= 2, remix.title


@pytest.mark.parametrize("blocked", [0, 1, 5])
def test_search_costs_the_same_when_it_matches_tracks_that_cannot_be_remixed(client, blocked):
    """Search lists every matching track, remixable or not. A track that
    cannot be remixed used to ask the rule for its reasons (4 more queries):
    its card now says why from the stored state, at no cost."""
    cache.clear()
    _world(2)
    for n in range(blocked):
        nobody = artist_with_user(f"Silent {n}")[1]  # no consent given
        remixable_track(title=f"Velvet Demo {n}", artist=nobody)
    url = "/search/?q=velvet"
    assert _queries(client, url) == ANONYMOUS[url]
    html = client.get(url).content.decode()
    assert html.count("Not remixable yet") == blocked
    if blocked:
        assert "The artists&#x27; consent does not cover it." in html
