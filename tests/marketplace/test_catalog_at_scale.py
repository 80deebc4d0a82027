"""Home, browse, search and the catalog API cost the same number of queries
whatever the catalog's size, and the integrity check covers the stored
remixability state."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.api_views import BoundedPagination
from catalog.models import Recording
from marketplace.audit.checks import check_consent_chain
from tests.catalog.factories import RecordingFactory, credit, remixable_recording
from tests.fixtures.redis_db import cache_clear_own

pytestmark = pytest.mark.django_db

# Exact, with the list cache off (as in tests): a change here is a change in
# the pages' cost, to be made on purpose. A list of tracks costs its page's ids,
# then its rows with their artists, in one query (with the cache on, only for rows no
# page drew lately: test_a_new_search_draws_only_the_cards_no_page_drew).
# Browse: 3 facet queries and the grid; home: the grid, the newest remixes and
# this week's ranking (none published here; with remixes, see
# tests/marketplace/discovery/test_query_counts.py); the API: the list, whose
# ids query is also its bounded count; non-remixable rows on a page say why from their stored state
# (they used to ask the rule: 3 more queries).
QUERIES = {
    "/": 4,
    "/tracks/": 5,
    "/tracks/?q=song": 5,
    "/tracks/?show_all=on&genre=house": 5,
    "/api/v1/tracks/": 2,
    "/api/v1/tracks/?q=song&limit=10": 2,
}


def _catalog(size: int) -> None:
    """`size` remixable songs and as many that are not (no consent)."""
    for n in range(size):
        remixable_recording(f"Artist {n}", title=f"Song {n}", genre="house")
        recording = RecordingFactory(title=f"Song {n} (demo)", genre="house")
        credit(recording, remixable_recording(f"Other {n}")[1])


def _queries(client, url: str) -> int:
    client.get(url)  # warm the facet cache, as a running site has it
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("size", [2, 30])
def test_query_counts_do_not_grow_with_the_catalog(client, size):
    cache_clear_own()
    _catalog(size)
    assert Recording.objects.count() == 3 * size
    counts = {url: _queries(client, url) for url in QUERIES}
    assert counts == QUERIES


def test_pages_list_only_remixable_tracks_by_default(client):
    _catalog(2)
    page = client.get("/tracks/").content.decode()
    assert "Song 0" in page and "Song 0 (demo)" not in page
    every = client.get("/tracks/?show_all=on").content.decode()
    assert "Song 0 (demo)" in every and "Not remixable yet" in every
    body = client.get("/api/v1/tracks/?limit=2").json()
    assert body["count"] == 4 and body["count_capped"] is False and len(body["results"]) == 2


def test_cached_lists_cost_no_query_and_retire_on_a_consent_change(client, settings):
    settings.CATALOG_LIST_CACHE_SECONDS = 30
    cache_clear_own()
    _, party, owner = remixable_recording("Cached", title="Cached Song")
    # Home's remixes are cached too, under the published remixes' version
    # (an unpublished remix leaves at its commit: remixing.published), so a
    # visitor's home page costs no query either (it read the newest remixes
    # on every request: 1).
    for url, expected in (("/", 0), ("/tracks/", 0), ("/api/v1/tracks/", 0)):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert "Cached Song" in client.get(url).content.decode()
        assert len(queries) == expected, url
    services.consent_revoke(party=party, actor=owner)
    for url in ("/", "/tracks/", "/api/v1/tracks/"):
        assert "Cached Song" not in client.get(url).content.decode(), url


def _cards_of(html: str) -> list[str]:
    return re.findall(r'<span class="track-title">([^<]+)</span>', html)


def test_a_new_search_draws_only_the_cards_no_page_drew(client, settings):
    """Each card (and API row) is cached under the listing version: a search
    with words nobody asked for still costs its ids, but only the rows no page
    drew lately cost their rows (one query); a consent change redraws."""
    settings.CATALOG_LIST_CACHE_SECONDS = 30
    cache_clear_own()
    _catalog(3)
    _, party, owner = remixable_recording("Fresh", title="Song Fresh")
    pages = [("/tracks/?q={}", "text"), ("/api/v1/tracks/?q={}", "json")]
    for url, kind in pages:
        client.get(url.format("song"))  # draws every card of the catalog's songs
        for words, expected in (("song+0", 1), ("song+fresh", 1), ("0+song", 1)):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url.format(words))
            shown = (
                [row["title"] for row in response.json()["results"]]
                if kind == "json"
                else _cards_of(response.content.decode())
            )
            assert shown and all("Song" in title for title in shown), (url, words, shown)
            # The ids and nothing else.
            assert len(queries) == expected, (url, words)
    services.consent_revoke(party=party, actor=owner)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/tracks/?q=song+fresh&show_all=on").content.decode()
    assert "Song Fresh" in _cards_of(page) and "Not remixable yet" in page
    assert len(queries) == 3 + 2  # facets, redrawn after the change; ids, rows with artists


def test_api_offsets_are_bounded(client):
    response = client.get("/api/v1/tracks/?offset=5000")
    assert response.status_code == 400
    assert "offset" in response.json()["error"]["fields"]


def test_integrity_check_covers_the_stored_state():
    recording, _, _ = remixable_recording("Checked")
    assert check_consent_chain().ok
    Recording.objects.filter(pk=recording.pk).update(is_remixable=False)
    result = check_consent_chain()
    assert not result.ok and "Remixability state" in result.summary
    assert result.evidence[0]["label"] == f"Recording {recording.pk}"


def test_the_api_count_stops_at_its_cap_and_pages_past_it(client, monkeypatch):
    monkeypatch.setattr(BoundedPagination, "COUNT_CAP", 3)
    _catalog(3)  # nine tracks, three of them blocked
    every = "/api/v1/tracks/?include_unremixable=true"
    titles = [t["title"] for t in client.get(f"{every}&limit=100").json()["results"]]
    assert len(titles) == 9
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"{every}&limit=2&offset=2").json()
    assert (body["count"], body["count_capped"]) == (3, True)
    assert [t["title"] for t in body["results"]] == titles[2:4]
    assert body["next"] is None and "limit=2" in body["previous"]  # no link past the cap
    last = client.get(f"{every}&limit=2&offset=3").json()
    assert [t["title"] for t in last["results"]] == titles[3:5]
    assert client.get(f"{every}&offset=4").status_code == 400
    assert len(queries) <= 3 + 4  # ids and rows, plus the rule for the blocked rows
    # Words only one track has (the factories' numbered names can put "0" in
    # other tracks' search text, which SQLite matches as a substring).
    remixable_recording("Solo", title="Zebra Quartz")
    exact = client.get("/api/v1/tracks/?q=zebra+quartz&limit=2").json()
    assert (exact["count"], exact["count_capped"]) == (1, False), exact


def test_a_new_genre_reaches_the_filter_menu_on_the_next_request(client, settings):
    """Each process keeps the current version's facets; a recording created
    replaces the version, so the next page lists its genre."""
    settings.CATALOG_LIST_CACHE_SECONDS = 30
    cache_clear_own()
    _catalog(1)
    page = client.get("/tracks/").content.decode()
    assert '<option value="house">house</option>' in page and "zydeco" not in page
    with CaptureQueriesContext(connection) as queries:
        client.get("/tracks/")
    assert len(queries) == 0  # the grid from the cache, the facets from this process
    remixable_recording("Bayou", title="Bayou Nights", genre="zydeco")
    page = client.get("/tracks/").content.decode()
    assert '<option value="zydeco">zydeco</option>' in page and "Bayou Nights" in page


CACHE_CALLS = ("get", "get_many", "set", "set_many", "add", "incr", "delete")


def _cache_calls(monkeypatch) -> list[str]:
    """The listing cache's calls from now on, each one round trip to Redis
    (calls a backend makes inside another, as LocMem's get_many calls get,
    are not counted: Redis answers get_many with one MGET)."""
    from django.core.cache import caches

    calls: list[str] = []
    inside: list[str] = []
    default = caches["default"]
    for name in CACHE_CALLS:
        real = getattr(default, name)

        def counted(*args, _name=name, _real=real, **kwargs):
            if not inside:
                calls.append(_name)
            inside.append(_name)
            try:
                return _real(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(default, name, counted)
    return calls


@pytest.mark.parametrize("url", ["/tracks/?q={}", "/api/v1/tracks/?q={}"])
def test_a_list_reads_its_version_and_page_in_one_cache_round_trip(
    client, settings, monkeypatch, url
):
    """The listing version and a page cached under it are read together: a
    cached page costs one cache read; a new search whose cards were drawn
    costs that read, its cards' read and the page's write."""
    settings.CATALOG_LIST_CACHE_SECONDS = 30
    cache_clear_own()
    _catalog(3)
    client.get(url.format("song"))  # the version made, every card drawn
    calls = _cache_calls(monkeypatch)
    assert client.get(url.format("song")).status_code == 200
    assert calls == ["get_many"]
    calls.clear()
    assert client.get(url.format("0+song")).status_code == 200
    assert calls == ["get_many", "get_many", "set"]
