"""Studio edge cases in the browser: separation on demand with live progress,
a recipe the server rejects, controls the artist's terms forbid."""

from __future__ import annotations

import os

import pytest

from remixing.models import Remix, StemSet
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_fan(transactional_db):
    user = UserFactory(email="studio-fan@example.com", is_fan=True)
    entitle(user)
    return user


def test_separation_on_demand_shows_progress_then_opens(
    pipeline, live_server, page, browser_fan, make_recording, artifacts_dir
):
    recording, _ = make_recording(seconds=3.0)  # no official stems: Demucs must run
    login(page, browser_fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    page.wait_for_selector("[data-separation]:visible")
    assert "Preparing the stems" in page.locator("[data-separation]").inner_text()
    page.screenshot(path=str(artifacts_dir / "studio-separation-progress.png"), full_page=True)
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 120, pipeline, 0.5)
    stem_set = StemSet.objects.get(recording=recording)
    assert stem_set.status == "ready" and stem_set.model_name == "demucs_unittest"
    assert "demucs_unittest" in page.locator("[data-stems-source]").inner_text()
    assert "untrained" in page.locator("[data-stems-source]").inner_text()
    assert page.locator("[data-stem]").count() == 4
    page.screenshot(path=str(artifacts_dir / "studio-separated.png"), full_page=True)


def test_rejected_recipe_and_forbidden_controls(
    pipeline, live_server, page, browser_fan, make_recording, artifacts_dir
):
    recording, _ = make_recording(
        official_stems=True, terms={"key": False, "vocals_isolated": False}
    )
    login(page, browser_fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)
    # Forbidden by the terms: disabled, with the reason next to it.
    assert page.locator("#key").is_disabled()
    assert "not allowed by the artist" in page.locator("#key-why").inner_text()
    page.wait_for_selector("[data-preset=a_cappella][disabled]")
    # Out of range (a tampered control): the server says which control.
    page.evaluate(
        """() => { const t = document.querySelector('#tempo'); t.max = '3'; t.value = '2.5';
                   t.dispatchEvent(new Event('input', {bubbles: true}));
                   t.dispatchEvent(new Event('change', {bubbles: true})); }"""
    )
    page.wait_for_selector("[data-errors]:visible")
    assert "must be between 0.5 and 2" in page.locator("[data-errors]").inner_text()
    assert page.locator("#tempo").get_attribute("aria-invalid") == "true"
    assert page.locator("[data-save-state]").get_attribute("data-state") == "not saved"
    page.screenshot(path=str(artifacts_dir / "studio-rejected-recipe.png"), full_page=True)
    page.locator("h1").click()
    page.keyboard.press("Control+z")
    page.wait_for_selector("[data-save-state][data-state=saved]")
    assert page.locator("[data-errors]").is_hidden()

    # Fades are keyboard-operable sliders saved into the draft's recipe.
    page.locator("#fade-out").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.locator("h1").click()
    page.wait_for_selector("[data-save-state][data-state=saved]")
    assert page.locator("[data-out=fade_out_s]").inner_text() == "0.5 s"
    remix = Remix.objects.filter(fan=browser_fan, recording=recording).latest("pk")
    wait_for(lambda: Remix.objects.get(pk=remix.pk).recipe.get("fade_out_s") == 0.5, 20, None, 0.3)
