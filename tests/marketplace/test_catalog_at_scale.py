"""Home, browse, search and the catalog API cost the same number of queries
whatever the catalog's size, and the integrity check covers the stored
remixability state."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import Recording
from marketplace.audit.checks import check_consent_chain
from tests.catalog.factories import RecordingFactory, credit, remixable_recording
from tests.fixtures.redis_db import cache_clear_own

pytestmark = pytest.mark.django_db

# Exact, with the list cache off (as in tests): a change here is a change in
# the pages' cost, to be made on purpose. Browse: 3 facet queries, the page,
# its artists; home: the page, its artists, the newest remixes and this
# week's ranking (none published here; with remixes, see
# tests/marketplace/discovery/test_query_counts.py); the API: a bounded count,
# the page, its artists; non-remixable rows on a page say why from their
# stored state (they used to ask the rule: 3 more queries, 8 in all).
QUERIES = {
    "/": 4,
    "/tracks/": 5,
    "/tracks/?q=song": 5,
    "/tracks/?show_all=on&genre=house": 5,
    "/api/v1/tracks/": 3,
    "/api/v1/tracks/?q=song&limit=10": 3,
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
