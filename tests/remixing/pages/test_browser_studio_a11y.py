"""The studio, ready, on a phone and by keyboard alone.

At 390 px the studio fits the screen; axe-core finds nothing serious; Tab
reaches every control in reading order, each slider announces its value in
words with units (aria-valuetext), and play, mute, tempo, key, a preset, undo
and export all work from the keyboard.
"""

from __future__ import annotations

import os

import pytest

from tests.fixtures.a11y import axe_violations, duplicate_ids, offscreen, serious
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser_fan(transactional_db):
    user = UserFactory(email="keyboard-fan@example.com", is_fan=True)
    entitle(user)
    return user


def _focused(page) -> dict:
    return page.evaluate(
        """() => { const el = document.activeElement;
                   return {id: el.id, tag: el.tagName.toLowerCase(), text: el.innerText || '',
                           label: el.getAttribute('aria-label') || '',
                           valuetext: el.getAttribute('aria-valuetext') || '',
                           action: el.dataset.action || el.dataset.preset || '',
                           pressed: el.getAttribute('aria-pressed') || ''}; }"""
    )


def _tab_to(page, predicate, limit: int = 120) -> dict:
    trail = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if predicate(focused):
            return focused
        trail.append(focused["id"] or focused["label"] or focused["text"][:20] or focused["tag"])
    raise AssertionError(f"Tab never reached the control; focus went: {trail}")


def test_studio_on_a_phone_by_keyboard_alone(
    pipeline, live_server, page, browser_fan, make_recording, artifacts_dir
):
    recording, _ = make_recording(official_stems=True)
    page.set_viewport_size(PHONE)
    login(page, browser_fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)

    # Fits the phone, nothing serious for axe.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert offscreen(page, PHONE["width"]) == []
    assert serious(axe_violations(page)) == []
    assert duplicate_ids(page) == []

    # Every slider says what it means, with its unit.
    texts = page.evaluate(
        """() => [...document.querySelectorAll('[data-studio] input[type=range]')]
                 .map(el => [el.id || el.dataset.fx || 'seek',
                             el.getAttribute('aria-valuetext')])"""
    )
    missing = [name for name, text in texts if not text]
    assert missing == [], missing
    assert page.locator("#tempo").get_attribute("aria-valuetext").startswith("100%")
    assert page.locator("#key").get_attribute("aria-valuetext") == "original key"

    # Keyboard alone, from the top of the page.
    page.locator("body").focus()
    play = _tab_to(page, lambda f: f["action"] == "play")
    assert play["text"] == "Play"
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-action=play][aria-pressed=true]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-action=play][aria-pressed=false]")

    mute = _tab_to(page, lambda f: f["label"].startswith("Mute "))
    page.keyboard.press("Enter")
    assert _focused(page)["pressed"] == "true", mute
    gain = _tab_to(page, lambda f: f["id"].startswith("gain-"))
    assert gain["valuetext"] == "0 dB, muted"
    page.keyboard.press("ArrowLeft")
    assert _focused(page)["valuetext"] == "-0.5 dB, muted"

    tempo = _tab_to(page, lambda f: f["id"] == "tempo")
    assert tempo["valuetext"].startswith("100%")
    page.keyboard.press("ArrowRight")
    assert _focused(page)["valuetext"].startswith("101%")
    assert _focused(page)["valuetext"].endswith("of the original tempo")
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "key"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert _focused(page)["valuetext"] == "+2 semitones (higher)"
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "fade-in"
    page.keyboard.press("ArrowRight")
    assert _focused(page)["valuetext"] == "0.1 seconds"
    page.wait_for_selector("[data-save-state][data-state=saved]")

    # Undo from the keyboard shortcut, and the export button is reachable.
    page.keyboard.press("Control+z")
    assert page.locator("#fade-in").get_attribute("aria-valuetext") == "0.0 seconds"

    # A preset, from the keyboard.
    page.locator("body").focus()
    preset = _tab_to(page, lambda f: f["tag"] == "button" and f["text"].strip() == "Chill")
    page.keyboard.press("Enter")
    assert _focused(page)["pressed"] == "true", preset
    page.locator("body").focus()
    _tab_to(page, lambda f: f["text"].strip() == "Export remix")
    page.screenshot(path=str(artifacts_dir / "studio-phone-keyboard.png"), full_page=True)
