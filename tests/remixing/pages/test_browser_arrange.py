"""The studio's Arrange card: the sections found in the track, and the reason when the
artist's terms do not allow re-arranging (they cannot yet: fail closed)."""

from __future__ import annotations

import os

import pytest

from remixing import job_runner
from remixing.models import Remix, StemSetStructure
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


def test_arrange_card_lists_sections_and_says_why_it_is_locked(
    pipeline, live_server, page, make_recording
):
    fan = UserFactory(email="arrange-fan@example.com", is_fan=True)
    entitle(fan)
    recording, _ = make_recording(official_stems=True)
    login(page, fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)
    remix = Remix.objects.filter(fan=fan, recording=recording).latest("pk")
    assert job_runner.stemset_structure_run(remix.stem_set_id) == "ready"
    sections = StemSetStructure.objects.get(stem_set_id=remix.stem_set_id).data["sections"]
    page.reload()
    page.wait_for_selector("[data-arrange-found] li")
    assert page.locator("[data-arrange-found] li").count() == len(sections)
    assert page.locator("[data-arrange-found] li").first.inner_text().startswith("A · 0:00\u2013")
    assert "found at about" in page.locator("[data-arrange-status]").inner_text()
    reason = page.locator("[data-term-reason=arrangement]").inner_text()
    assert reason == "Re-arranging the track is not allowed by the artist's terms."
    assert page.locator("[data-arrange-editor]").is_hidden()
    assert page.locator("[data-arrange-found] button").count() == 0
