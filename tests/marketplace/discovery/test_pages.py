"""Discovery pages, as a visitor sees them: published remixes with full
credits on the home page, the remixes page (new, popular this week, filters),
track and artist pages, and the search (remixes, tracks, artists, songwriters)."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.discovery import services
from tests.marketplace.discovery.world import (
    artist_with_user,
    fan_with_handle,
    opt_in,
    published,
    remixable_track,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    nova_user, nova = artist_with_user("Nova Lane")
    kite_user, kite = artist_with_user("Kite Runner")
    blue = remixable_track(title="Blue Hour", artist=nova, writer="June Okafor", mood=("dreamy",))
    red = remixable_track(title="Red Sky", artist=kite, writer="Mira Sol", mood=("dark",))
    opt_in(nova, nova_user)
    opt_in(kite, kite_user)
    ada = fan_with_handle("ada", email="ada.private@example.com", display_name="Ada B")
    bo = fan_with_handle("bo", email="bo.private@example.com")
    dusk = published(blue, ada, "Blue Dusk", preset="lofi")
    storm = published(red, bo, "Red Storm", preset="club")
    return {
        "nova": nova,
        "kite": kite,
        "blue": blue,
        "red": red,
        "ada": ada,
        "bo": bo,
        "dusk": dusk,
        "storm": storm,
        "nova_user": nova_user,
    }


def page(url: str, client: Client | None = None) -> str:
    response = (client or Client()).get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_home_shows_new_remixes_with_full_credits_and_handles_never_emails(world):
    html = page("/")
    assert "Blue Dusk" in html and "Red Storm" in html
    assert "Remix of <a" in html
    assert "“Blue Hour”</a> by Nova Lane, written by June Okafor" in html
    assert "@ada" in html and "Ada B" in html
    assert "private@example.com" not in html


def test_remixes_page_filters_by_track_artist_mood_and_preset(world):
    assert "Red Storm" not in page(f"/remixes/?track={world['blue'].pk}")
    assert "Blue Dusk" in page(f"/remixes/?track={world['blue'].pk}")
    by_artist = page(f"/remixes/?artist={world['kite'].pk}")
    assert "Red Storm" in by_artist and "Blue Dusk" not in by_artist
    by_mood = page("/remixes/?mood=dreamy")
    assert "Blue Dusk" in by_mood and "Red Storm" not in by_mood
    by_preset = page("/remixes/?preset=club")
    assert "Red Storm" in by_preset and "Blue Dusk" not in by_preset


def test_popular_this_week_counts_each_listener_once(world):
    for listener in ("a", "b", "c"):
        services.remix_weekly_play_record(remix_id=world["storm"].pk, listener=listener)
        services.remix_weekly_play_record(remix_id=world["storm"].pk, listener=listener)
    services.remix_weekly_play_record(remix_id=world["dusk"].pk, listener="a")
    html = page("/remixes/?sort=popular")
    assert html.index("Red Storm") < html.index("Blue Dusk")
    assert '<span data-testid="plays-week">3</span> listeners this week' in html


def test_track_page_lists_its_published_remixes(world):
    html = page(f"/tracks/{world['blue'].pk}/")
    assert "Blue Dusk" in html and "Red Storm" not in html


def test_artist_page_lists_tracks_and_their_remixes(world):
    html = page(f"/artists/{world['nova'].pk}/")
    assert "Blue Hour" in html and "Blue Dusk" in html
    assert "Red Sky" not in html and "Red Storm" not in html
    assert '<span data-testid="fans-remixed">1</span> fan remixed them' in html
    assert "earned" not in html  # earnings are the artist's own business


def test_search_by_songwriter_name_finds_their_tracks_and_remixes(world):
    html = page("/search/?q=okafor")
    assert "June Okafor" in html  # the songwriter
    assert "Blue Hour" in html  # the track they wrote
    assert "Blue Dusk" in html  # its remix
    assert "Red Storm" not in html and "Red Sky" not in html


def test_search_finds_remixes_by_title_and_handle_and_artists_by_name(world):
    assert "Red Storm" in page("/search/?q=storm")
    assert "Red Storm" in page("/search/?q=bo")
    html = page("/search/?q=kite")
    assert f'href="/artists/{world["kite"].pk}/"' in html


def test_catalog_search_by_songwriter_name(world):
    assert "Blue Hour" in page("/tracks/?q=Okafor")
    assert "Red Sky" in page("/tracks/?q=mira sol")


@pytest.mark.parametrize("field", ["track", "artist"])
@pytest.mark.parametrize("logged_in", [False, True])
def test_remixes_filter_by_an_id_too_large_for_the_database_says_no_such_one(
    world, field, logged_in
):
    # Probe: /remixes/?track=99999999999999999999999 was a server error (the
    # integer overflowed the database's), for visitors and members alike.
    client = Client()
    if logged_in:
        client.force_login(world["ada"])
    response = client.get(f"/remixes/?{field}=99999999999999999999999")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"No such {field}." in html
    # Like any other id that is not a number, the filter is left out.
    assert "Blue Dusk" in html and "Red Storm" in html
