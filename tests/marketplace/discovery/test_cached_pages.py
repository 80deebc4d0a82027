"""With the page cache on (as in production), what visitors who are not
signed in see is served from the cache, and every change it shows retires
it at its commit: a revocation that unpublishes, a like, a listener, a
remixer's new name, a new artist. Signed-in people never get a cached page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from catalog import services as catalog
from marketplace.discovery import services
from tests.catalog.factories import PartyFactory
from tests.fixtures.redis_db import cache_clear_own
from tests.marketplace.discovery.world import (
    artist_with_user,
    fan_with_handle,
    opt_in,
    published,
    remixable_track,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.CATALOG_LIST_CACHE_SECONDS = 30
    cache_clear_own()
    yield
    cache_clear_own()


@pytest.fixture
def world(cached):
    nova_user, nova = artist_with_user("Nova Lane")
    blue = remixable_track(title="Blue Hour", artist=nova)
    opt_in(nova, nova_user)
    ada = fan_with_handle("ada", display_name="Ada Waves")
    dusk = published(blue, ada, "Blue Dusk")
    return {"nova": nova, "nova_user": nova_user, "blue": blue, "ada": ada, "dusk": dusk}


def _pages(world) -> list[str]:
    return [
        "/",
        "/remixes/",
        "/search/?q=dusk",
        f"/tracks/{world['blue'].pk}/",
        f"/studio/r/{world['dusk'].share_slug}/",
    ]


def _queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return len(queries), response.content.decode()


def test_visitors_get_cached_pages_and_a_revocation_retires_them_at_once(
    world, django_capture_on_commit_callbacks
):
    visitor = Client()
    for url in _pages(world):
        assert "Blue Dusk" in visitor.get(url).content.decode(), url
    # Served from the cache: home, the remixes page and search run no query
    # at all (the remixes page reads its filter choices from the cache too).
    for url in ("/", "/remixes/", "/search/?q=dusk"):
        count, html = _queries(visitor, url)
        assert count == 0 and "Blue Dusk" in html, url

    with django_capture_on_commit_callbacks(execute=True):
        catalog.consent_revoke(party=world["nova"], actor=world["nova_user"], reason="done")

    for url in _pages(world)[:-1]:
        assert "Blue Dusk" not in visitor.get(url).content.decode(), url
    assert visitor.get(_pages(world)[-1]).status_code == 404


def test_likes_listeners_and_names_show_at_once_on_cached_pages(world):
    visitor = Client()
    slug = world["dusk"].share_slug
    pages = ["/", "/remixes/", f"/tracks/{world['blue'].pk}/", "/search/?q=dusk"]
    for url in pages:
        assert '<span data-testid="likes">0</span> likes' in visitor.get(url).content.decode()
    services.remix_like(user=fan_with_handle("bo"), remix_id=world["dusk"].pk)
    services.remix_weekly_play_record(remix_id=world["dusk"].pk, listener="someone")
    for url in pages:
        html = visitor.get(url).content.decode()
        assert '<span data-testid="likes">1</span> like ' in html, url
        assert '<span data-testid="plays-week">1</span> listener this week' in html, url
    ada = User.objects.get(pk=world["ada"].pk)
    ada.display_name = "Ada Tides"
    ada.save()
    for url in [*pages, f"/studio/r/{slug}/"]:
        html = visitor.get(url).content.decode()
        assert "Ada Tides" in html and "Ada Waves" not in html, url


def test_a_new_artist_shows_in_cached_search_at_once(world):
    visitor = Client()
    assert "Dusk Choir" not in visitor.get("/search/?q=dusk").content.decode()
    PartyFactory(kind="artist", name="Dusk Choir")
    assert "Dusk Choir" in visitor.get("/search/?q=dusk").content.decode()


def test_signed_in_people_never_get_the_visitors_cache(world):
    visitor = Client()
    assert "Blue Dusk" in visitor.get("/").content.decode()
    fan = Client()
    fan.force_login(fan_with_handle("cy"))
    for url in _pages(world):
        html = fan.get(url).content.decode()
        assert "Blue Dusk" in html, url
    # Their cards carry their own like buttons (with their CSRF token).
    assert 'name="csrfmiddlewaretoken"' in fan.get("/").content.decode()
    assert 'name="csrfmiddlewaretoken"' not in visitor.get("/").content.decode()
