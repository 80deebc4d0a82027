"""The studio preview follows the stored arrangement (issue 17, item 2): its length is
the arranged length and it plays the sections in the fan's order."""

from __future__ import annotations

import os
import time

import pytest

from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


def _poll(page, script: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {script}")


def test_the_preview_plays_the_arranged_sections(pipeline, live_server, page, make_recording):
    fan = UserFactory(email="arrange-preview@example.com", is_fan=True)
    entitle(fan)
    recording, _ = make_recording(terms={"arrangement": True}, official_stems=True, seconds=6)
    login(page, fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)
    original = page.evaluate("window.__studio.engine.duration")
    assert abs(original - 6.0) < 0.1
    page.evaluate(
        """document.querySelector('[data-studio]').dispatchEvent(new CustomEvent(
             'studio:apply-recipe', {detail: {recipe: {...window.__studio.recipe,
               arrangement: {version: 1, crossfade_ms: 20, sections: [
                 {start_s: 4, end_s: 6}, {start_s: 0, end_s: 2}, {start_s: 4, end_s: 5}]}}}}))"""
    )
    _poll(
        page,
        "Math.abs(window.__studio.engine.duration - 5) < 0.01 && !!window.__studio.engine.sections",
    )
    assert page.evaluate("window.__studio.engine.sections.length") == 3
    # Every bus loaded before Play (stems whole, the original for A/B), so the
    # pieces Play schedules are counted against the buses that were there.
    _poll(
        page,
        "!!window.__studio.engine.original && [...document.querySelectorAll('[data-decoded]')]"
        ".every((li) => li.dataset.decoded === 'whole')",
        timeout=60,
    )
    page.get_by_role("button", name="Play").click()
    _poll(page, "window.__studio.engine.playing")
    stems = page.evaluate("window.__studio.engine.stems.size")
    buses = stems + (1 if page.evaluate("!!window.__studio.engine.original") else 0)
    # Three pieces, each for every stem (and the original, for A/B).
    assert page.evaluate("window.__studio.engine.sources.length") == 3 * buses
    _poll(page, "document.querySelector('[data-save-state]').textContent.trim() === 'saved'")
    page.get_by_role("button", name="Stop").first.click()
