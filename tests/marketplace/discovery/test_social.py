"""Profiles, follows, likes, the following feed and notices, as people see them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from catalog import services as catalog
from marketplace.discovery import services
from remixing.models import Remix
from remixing.services import remix_publish
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
    blue = remixable_track(title="Blue Hour", artist=nova)
    opt_in(nova, nova_user)
    ada = fan_with_handle("ada", display_name="Ada B")
    bo = fan_with_handle("bo")
    dusk = published(blue, ada, "Blue Dusk")
    return {"nova": nova, "nova_user": nova_user, "blue": blue, "ada": ada, "bo": bo, "dusk": dusk}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_like_is_a_csrf_protected_post_and_idempotent(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["bo"])
    url = f"/remixes/{world['dusk'].share_slug}/like/"
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    bo = logged_in(world["bo"])
    bo.post(url, {"action": "like"})
    bo.post(url, {"action": "like"})
    html = bo.get(f"/studio/r/{world['dusk'].share_slug}/").content.decode()
    assert '<span data-testid="likes">1</span> like' in html
    assert 'aria-pressed="true">Liked' in html
    bo.post(url, {"action": "unlike"})
    html = bo.get(f"/studio/r/{world['dusk'].share_slug}/").content.decode()
    assert '<span data-testid="likes">0</span> likes' in html


def test_profile_shows_published_remixes_likes_and_follows(world):
    bo = logged_in(world["bo"])
    bo.post(f"/remixes/{world['dusk'].share_slug}/like/", {"action": "like"})
    bo.post(f"/artists/{world['nova'].pk}/follow/", {"action": "follow"})
    bo.post("/people/ada/follow/", {"action": "follow"})
    bo.post("/people/ada/follow/", {"action": "follow"})  # twice: still one
    html = Client().get("/people/bo/").content.decode()
    assert "Blue Dusk" in html  # liked
    assert "Nova Lane" in html and "@ada" in html  # following
    ada_page = Client().get("/people/ada/").content.decode()
    assert '<span data-testid="followers">1</span> follower' in ada_page
    assert "Blue Dusk" in ada_page
    artist_page = Client().get(f"/artists/{world['nova'].pk}/").content.decode()
    assert '<span data-testid="followers">1</span> follower' in artist_page


def test_nobody_follows_themselves(world):
    ada = logged_in(world["ada"])
    response = ada.post("/people/ada/follow/", {"action": "follow"}, follow=True)
    assert "You cannot follow yourself." in response.content.decode()
    assert '<span data-testid="followers">0</span> followers' in response.content.decode()


def test_artist_sees_own_remix_earnings_others_do_not(world):
    own = logged_in(world["nova_user"])
    html = own.get(f"/artists/{world['nova'].pk}/").content.decode()
    assert "Your tracks earned <strong>Nothing yet</strong> from remixes" in html
    profile = own.get(f"/people/{world['nova_user'].handle}/").content.decode()
    assert (
        "Earned from remixes" in profile and '<span data-testid="fans-remixed">1</span>' in profile
    )
    assert (
        "Earned from remixes"
        not in logged_in(world["bo"]).get(f"/people/{world['nova_user'].handle}/").content.decode()
    )


def test_feed_shows_remixes_of_followed_artists_and_remixers(world):
    cara = fan_with_handle("cara")
    _, kite = artist_with_user("Kite Runner")
    red = remixable_track(title="Red Sky", artist=kite, writer="Mira Sol")
    published(red, cara, "Red Storm")
    bo = logged_in(world["bo"])
    assert "Blue Dusk" not in bo.get("/following/").content.decode()
    services.follow_artist(follower=world["bo"], party_id=world["nova"].pk)
    services.follow_remixer(follower=world["bo"], remixer_id=cara.pk)
    html = bo.get("/following/").content.decode()
    assert "Blue Dusk" in html and "Red Storm" in html


def test_notice_when_followed_artist_opts_a_track_in(world, django_capture_on_commit_callbacks):
    services.follow_artist(follower=world["bo"], party_id=world["nova"].pk)
    catalog.consent_revoke(party=world["nova"], actor=world["nova_user"])
    new = remixable_track(title="Green Tide", artist=world["nova"])
    with django_capture_on_commit_callbacks(execute=True):
        catalog.consent_grant(party=world["nova"], actor=world["nova_user"], recording=new)
    html = logged_in(world["bo"]).get("/following/").content.decode()
    assert "Nova Lane</a> opted" in html and "“Green Tide”</a> in for remixes" in html
    assert '<span class="badge badge-ok" data-testid="unread">1 new</span>' in html


def test_notice_when_followed_remixer_publishes(world, django_capture_on_commit_callbacks):
    services.follow_remixer(follower=world["bo"], remixer_id=world["ada"].pk)
    ready = Remix.objects.create(
        fan=world["ada"], recording=world["blue"], status="ready", paid_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        remix_publish(remix=ready, fan=world["ada"], title="Blue Again")
    bo = logged_in(world["bo"])
    html = bo.get("/following/").content.decode()
    assert "published <a" in html and "“Blue Again”" in html
    bo.post("/following/notices/read/")
    assert 'data-testid="unread"' not in bo.get("/following/").content.decode()


def test_own_remix_of_a_followed_artist_shows_in_the_feed(world):
    services.follow_artist(follower=world["bo"], party_id=world["nova"].pk)
    published(world["blue"], world["bo"], "Bo's Fork", parent=world["dusk"])
    html = logged_in(world["bo"]).get("/following/").content.decode()
    assert "Bo&#x27;s Fork" in html and "Inspired by <a" in html
