"""Describe your remix in the studio: type a sentence, see the changes, edit one, apply
them as one edit (saved), then undo them all with one press."""

from __future__ import annotations

import os

import pytest

from remixing.models import Remix
from tests.fixtures.a11y import axe_violations, duplicate_ids, offscreen, serious
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


def test_describe_apply_and_undo(pipeline, live_server, page, make_recording, artifacts_dir):
    fan = UserFactory(email="describe-fan@example.com", is_fan=True)
    entitle(fan)
    recording, _ = make_recording(official_stems=True, terms={"key": False})
    login(page, fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)
    remix = Remix.objects.filter(fan=fan, recording=recording).latest("pk")

    page.get_by_label("Say what you want, in your own words").fill(
        "no vocals, 10% faster, up two semitones, remove the credits"
    )
    page.get_by_role("button", name="Show changes").click()
    page.wait_for_selector("[data-describe-result]:visible")
    changes = page.locator("[data-describe-changes] li")
    assert changes.count() == 2
    assert changes.nth(0).inner_text().startswith("Mute the vocals")
    assert "Tempo 110% of the original" in changes.nth(1).inner_text()
    skipped = page.locator("[data-describe-skipped-list]").inner_text()
    assert "Not allowed by the artist's terms: “up two semitones”" in skipped
    assert "Not something Clearmix does: “remove the credits”" in skipped
    page.screenshot(path=str(artifacts_dir / "studio-describe.png"), full_page=True)
    # The understood changes are accessible and fit a phone.
    assert serious(axe_violations(page)) == []
    assert duplicate_ids(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert offscreen(page, 390) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    # Edit before applying: 105% instead of 110%.
    page.get_by_label("Tempo 110% of the original (132 BPM): value in percent").fill("105")
    page.get_by_role("button", name="Apply changes").click()
    assert page.locator("[data-describe-result]").is_hidden()
    assert "Applied 2 changes" in page.locator("[data-describe-status]").inner_text()
    assert (
        page.locator("[data-stem=vocals] [data-stem-mute]").get_attribute("aria-pressed") == "true"
    )
    assert page.locator("[data-out=tempo]").inner_text().startswith("105%")
    wait_for(
        lambda: Remix.objects.get(pk=remix.pk).recipe.get("tempo_ratio") == 1.05, 20, None, 0.3
    )
    saved = Remix.objects.get(pk=remix.pk).recipe
    assert saved["stems"]["vocals"]["mute"] is True and saved["key_shift"] == 0

    # One undo takes the whole description back.
    page.get_by_role("button", name="Undo").click()
    assert (
        page.locator("[data-stem=vocals] [data-stem-mute]").get_attribute("aria-pressed") == "false"
    )
    assert page.locator("[data-out=tempo]").inner_text().startswith("100%")
    wait_for(lambda: Remix.objects.get(pk=remix.pk).recipe.get("tempo_ratio") == 1.0, 20, None, 0.3)
    assert Remix.objects.get(pk=remix.pk).recipe["stems"]["vocals"]["mute"] is False
