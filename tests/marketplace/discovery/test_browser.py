"""The following feed, a profile and the remixes page on a phone (390 px):
nothing sideways, axe-core clean, and a like from the feed counts once."""

from __future__ import annotations

import os
import re

import pytest
from django.conf import settings
from django.test import Client

from marketplace.discovery import services
from tests.fixtures.a11y import axe_violations, duplicate_ids, offscreen, serious
from tests.marketplace.discovery.world import (
    artist_with_user,
    fan_with_handle,
    opt_in,
    published,
    remixable_track,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def _fits_and_passes_axe(page, path: str) -> None:
    page.goto(path, wait_until="load")
    if os.environ.get("PHONE_SCREENSHOTS"):
        name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"
        page.screenshot(path=f"test-artifacts/discovery-{name}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    assert offscreen(page, PHONE["width"]) == [], path
    assert duplicate_ids(page) == [], path
    assert serious(axe_violations(page)) == [], path


def test_feed_and_profile_on_a_phone(page, live_server):
    nova_user, nova = artist_with_user("Nova Lane")
    blue = remixable_track(title="Blue Hour with a rather long title for a phone", artist=nova)
    opt_in(nova, nova_user)
    ada = fan_with_handle("ada_with_a_long_handle_2026", display_name="Ada B")
    bo = fan_with_handle("bo")
    dusk = published(blue, ada, "Blue Dusk (an extended late-night version)", preset="chill")
    services.follow_remixer(follower=bo, remixer_id=ada.pk)
    services.follow_artist(follower=bo, party_id=nova.pk)
    services.notices_new_remix(remix_id=dusk.pk)

    page.set_viewport_size(PHONE)
    _sign_in(page, live_server, bo)
    for path in ("/following/", f"/people/{ada.handle}/", "/people/bo/", "/remixes/", "/"):
        _fits_and_passes_axe(page, path)

    page.goto("/following/")
    card = page.locator(f'[data-remix="{dusk.pk}"]')
    assert "Remix of “Blue Hour with a rather long title" in card.inner_text()
    card.get_by_role("button", name="Like").click()
    page.wait_for_load_state("load")
    card = page.locator(f'[data-remix="{dusk.pk}"]')
    assert card.get_by_test_id("likes").inner_text() == "1"
    assert card.get_by_role("button", name="Liked").get_attribute("aria-pressed") == "true"

    page.goto(f"/people/{ada.handle}/")
    page.get_by_role("button", name="Following").click()  # unfollow
    page.wait_for_load_state("load")
    assert page.get_by_test_id("followers").inner_text() == "0"
