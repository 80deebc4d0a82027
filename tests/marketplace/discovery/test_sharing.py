"""Sharing a published remix: Open Graph and Twitter card metadata, the
embeddable player with credits, the short link, and plays from anywhere
counted once per listener per week."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.discovery.selectors import week_start
from marketplace.models import RemixWeeklyPlay
from tests.marketplace.discovery.world import (
    artist_with_user,
    fan_with_handle,
    opt_in,
    published,
    remixable_track,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dusk():
    nova_user, nova = artist_with_user("Nova Lane")
    blue = remixable_track(title="Blue Hour", artist=nova, writer="June Okafor")
    opt_in(nova, nova_user)
    return published(blue, fan_with_handle("ada", email="ada.secret@example.com"), "Blue Dusk")


def test_the_remix_page_has_open_graph_and_twitter_cards(dusk):
    html = Client().get(f"/studio/r/{dusk.share_slug}/").content.decode()
    assert '<meta property="og:title" content="Blue Dusk">' in html
    assert (
        '<meta property="og:description" content="Remix of “Blue Hour” by Nova Lane, '
        'written by June Okafor. Remixed by @ada.">' in html
    )
    assert (
        f'<meta property="og:url" content="http://testserver/studio/r/{dusk.share_slug}/">' in html
    )
    assert '<meta name="twitter:card" content="player">' in html
    assert (
        f'<meta name="twitter:player" content="http://testserver/embed/remix/{dusk.share_slug}/">'
        in html
    )
    assert f'value="http://testserver/s/{dusk.share_slug}/"' in html  # the short link
    assert "ada.secret" not in html


def test_the_embed_names_the_recording_its_artists_songwriters_and_remixer(dusk):
    html = Client().get(f"/embed/remix/{dusk.share_slug}/").content.decode()
    assert "Remix of “Blue Hour” by Nova Lane, written by June Okafor. Remixed by @ada." in html
    assert "ada.secret" not in html


def test_plays_count_once_per_listener_per_week(dusk, django_capture_on_commit_callbacks):
    url = f"/api/v1/remixes/shared/{dusk.share_slug}/play/"
    with django_capture_on_commit_callbacks(execute=True):
        for address in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
            assert Client(REMOTE_ADDR=address).post(url).status_code == 200
    assert RemixWeeklyPlay.objects.filter(remix=dusk, week_start=week_start()).count() == 2
    html = Client().get("/remixes/?sort=popular").content.decode()
    assert '<span data-testid="plays-week">2</span> listeners this week' in html
