"""The whole fan journey in headless Chromium on the demo data: browse, studio
(stems, preset, audio really plays), save, export, pay on the sandbox's hosted
page, render progress, play and download, publish, public page, unpublish."""

from __future__ import annotations

import os
import time

import pytest
from playwright.sync_api import expect

from marketplace.demo.catalog_data import DEMO_PASSWORD
from marketplace.demo.seed import seed_demo
from remixing.models import Remix
from tests.fixtures.browser import login
from tests.fixtures.stripe import CARD_OK
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

FAN = "fan@clearmix.demo"


def audio_check(page) -> dict:
    """Sample the studio's AudioContext clock and AnalyserNode for a while."""
    return page.evaluate(
        """async () => {
          const e = window.__studio.engine;
          const t0 = e.ctx.currentTime;
          let peak = 0;
          for (let i = 0; i < 25; i++) {
            await new Promise((r) => setTimeout(r, 40));
            peak = Math.max(peak, e.level());
          }
          return {advanced: e.ctx.currentTime - t0, peak, state: e.ctx.state};
        }"""
    )


def test_fan_journey(pipeline, stripe_live, page, artifacts_dir):
    from marketplace.billing.services.plans import plan_catalog_sync

    plan_catalog_sync()
    seed_demo(log=lambda *_: None)
    from django.contrib.auth import get_user_model

    fan = get_user_model().objects.get(email=FAN)
    entitle(fan)
    shots = artifacts_dir
    started = time.monotonic()

    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    login(page, FAN, DEMO_PASSWORD)
    page.goto("/tracks/")
    page.screenshot(path=str(shots / "journey-01-browse.png"), full_page=True)
    page.get_by_role("link", name="Paper Lanterns").first.click()
    page.wait_for_selector("[data-testid=remix-this-track]")
    page.screenshot(path=str(shots / "journey-02-track.png"), full_page=True)
    page.get_by_test_id("remix-this-track").click()
    page.wait_for_url("**/studio/remixes/*/")
    remix = Remix.objects.get(fan=fan)

    try:
        wait_for(
            lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, step=0.3
        )
    except AssertionError:
        from remixing.models import StemSet

        print(console, list(StemSet.objects.values("status", "stage", "error")))
        print(page.locator("[data-studio]").get_attribute("data-state"), pipeline.real)
        page.screenshot(path=str(shots / "journey-fail.png"), full_page=True)
        raise
    page.screenshot(path=str(shots / "journey-03-studio.png"), full_page=True)
    assert page.locator("[data-stem]").count() == 4
    assert "Official stems" in page.locator("[data-stems-source]").inner_text()

    # Audio really plays: the clock advances and the analyser hears something.
    page.get_by_role("button", name="Play").click()
    result = audio_check(page)
    assert result["state"] == "running" and result["advanced"] > 0.5, result
    assert result["peak"] > 0.001, result

    # Mute drums from the keyboard, then solo off again; then apply a preset.
    page.locator("body").focus()
    drums_index = page.evaluate("Object.keys(window.__studio.recipe.stems)").index("drums")
    page.keyboard.press(str(drums_index + 1))
    assert page.evaluate("window.__studio.recipe.stems.drums.mute") is True
    page.keyboard.press("Control+z")
    assert page.evaluate("window.__studio.recipe.stems.drums.mute") is False
    page.keyboard.press("Control+Shift+z")
    assert page.evaluate("window.__studio.recipe.stems.drums.mute") is True
    gain = page.locator("[data-stem=vocals] [data-stem-gain]")
    gain.focus()
    gain.press("ArrowLeft")
    gain.press("ArrowLeft")
    assert page.evaluate("window.__studio.recipe.stems.vocals.gain_db") == -1
    page.locator("[data-preset=chill]").click()
    assert page.evaluate("window.__studio.recipe.stems.drums.gain_db") == -4
    assert page.evaluate("window.__studio.recipe.effects.reverb.wet") > 0
    result = audio_check(page)
    assert result["peak"] > 0.001, result
    page.get_by_role("button", name="A/B: remix").click()
    assert page.evaluate("window.__studio.engine.mode") == "original"
    # The original is its lossy preview, fetched through the media view under the CSP.
    assert "/media/remixing/previews/" in page.evaluate("window.__studio.config.originalUrl")
    assert page.evaluate("!!window.__studio.engine.original")
    page.keyboard.press("b")
    assert page.evaluate("window.__studio.engine.mode") == "remix"
    page.wait_for_selector("[data-save-state][data-state=saved]", timeout=10_000)
    page.screenshot(path=str(shots / "journey-04-studio-edited.png"), full_page=True)
    remix.refresh_from_db()
    assert remix.recipe["effects"]["reverb"] and remix.recipe_version > 1
    assert remix.preset == "chill"

    # Reopening the studio restores the saved recipe.
    page.reload()
    page.wait_for_selector("[data-studio][data-state=ready]")
    assert page.evaluate("window.__studio.recipe.stems.drums.gain_db") == -4

    # Export: pay on the sandbox's hosted page, come back to the remix page.
    page.get_by_test_id("export").click()
    page.wait_for_url(f"{stripe_live.url}/**")
    page.locator("input[name=card_number]").fill(CARD_OK)
    expiry = page.locator("input[name=expiry]")
    if expiry.count():
        expiry.fill("12/34")
    page.screenshot(path=str(shots / "journey-05-checkout.png"), full_page=True)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"**/my/remixes/{remix.pk}/**")
    page.screenshot(path=str(shots / "journey-06-returned.png"), full_page=True)

    def rendered():
        if page.locator("[data-render-progress]:visible").count():
            shot = shots / "journey-07-progress.png"
            if not shot.exists():
                page.screenshot(path=str(shot), full_page=True)
        return page.locator("[data-testid=remix-player]").count()

    wait_for(rendered, 90, pipeline, step=0.5)
    page.screenshot(path=str(shots / "journey-08-ready.png"), full_page=True)
    played = page.evaluate(
        """async () => {
          const a = document.querySelector('[data-testid=remix-player]');
          await a.play();
          await new Promise((r) => setTimeout(r, 700));
          const t = a.currentTime; a.pause(); return t;
        }"""
    )
    assert played > 0.2
    with page.expect_download() as mp3:
        page.get_by_test_id("download-mp3").click()
    assert os.path.getsize(mp3.value.path()) > 10_000
    with page.expect_download() as ogg:
        page.get_by_test_id("download-ogg").click()
    assert os.path.getsize(ogg.value.path()) > 10_000

    # Publish, see it on the public page, unpublish.
    page.get_by_label("Title").fill("Paper Lanterns (late night)")
    page.get_by_label("Description").fill("Slower, softer, made for 2 a.m.")
    page.get_by_test_id("publish").click()
    page.wait_for_selector("[data-testid=unpublish]")
    page.screenshot(path=str(shots / "journey-09-published.png"), full_page=True)
    page.get_by_test_id("public-link").click()
    page.wait_for_selector("[data-testid=credit-line]")
    credit = page.get_by_test_id("credit-line").inner_text()
    assert "Remix of “Paper Lanterns” by Nova Lane feat. The Tidewater" in credit
    assert "written by June Okafor" in credit
    page.evaluate("document.querySelector('[data-remix-player]').play()")
    # A locator wait, not wait_for_function: that evals a string in the page,
    # which the Content-Security-Policy (rightly) refuses.
    expect(page.locator("[data-play-count]")).to_have_text("1")
    page.screenshot(path=str(shots / "journey-10-public.png"), full_page=True)
    public_url = page.url
    page.go_back()
    page.get_by_test_id("unpublish").click()
    page.wait_for_selector("[data-testid=publish]")
    response = page.goto(public_url)
    assert response.status == 404
    page.screenshot(path=str(shots / "journey-11-unpublished.png"), full_page=True)
    page.goto("/my/remixes/")
    page.screenshot(path=str(shots / "journey-12-my-remixes.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/studio/tracks/{remix.recording_id}/")  # a fresh draft of the same track
    page.wait_for_selector("[data-studio][data-state=ready]")
    page.screenshot(path=str(shots / "journey-13-studio-phone.png"), full_page=True)
    assert time.monotonic() - started < 150
