"""Studio edge cases in the browser: separation on demand with live progress,
a recipe the server rejects, controls the artist's terms forbid."""

from __future__ import annotations

import os
import time

import pytest

from remixing.audio import STEM_PREVIEW_HEAD_BYTES
from remixing.models import Remix, StemSet
from remixing.services import job_records
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


def open_studio(page, pipeline, fan, recording) -> None:
    """Sign in as `fan` and open the studio of `recording`, its stems ready."""
    login(page, fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)


@pytest.fixture
def browser_fan(transactional_db):
    user = UserFactory(email="studio-fan@example.com", is_fan=True)
    entitle(user)
    return user


def test_separation_on_demand_shows_progress_then_opens(
    pipeline, live_server, page, browser_fan, make_recording, artifacts_dir, settings
):
    # Separation on demand: stems are not made ahead, so the studio must wait for them.
    settings.SEPARATION_PREPARE_AHEAD = False
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
    open_studio(page, pipeline, browser_fan, recording)
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


def test_a_track_closed_while_editing_says_not_saved_not_changed_elsewhere(
    pipeline, live_server, page, browser_fan, make_recording
):
    # The terms in force refusing a save is a 409 like a save made in another tab;
    # only the latter asks for a reload.
    from catalog.services.consent import consent_revoke

    recording, artist = make_recording(official_stems=True)
    open_studio(page, pipeline, browser_fan, recording)
    consent_revoke(party=recording.artist_party, actor=artist, reason="closing")
    page.locator("#fade-out").focus()
    page.keyboard.press("ArrowRight")
    page.locator("h1").click()
    page.wait_for_selector("[data-errors]:visible")
    assert "cannot be remixed right now" in page.locator("[data-errors]").inner_text()
    assert page.locator("[data-save-state]").get_attribute("data-state") == "not saved"


def test_the_last_edit_survives_an_immediate_reload(
    pipeline, live_server, page, browser_fan, make_recording
):
    # Found: edit, reload within a second and accept the leave-page prompt: in
    # one try of two the studio reopened an older version.
    recording, _ = make_recording(official_stems=True)
    open_studio(page, pipeline, browser_fan, recording)
    page.on("dialog", lambda dialog: dialog.accept())
    remix = Remix.objects.filter(fan=browser_fan, recording=recording).latest("pk")
    for attempt in range(1, 4):
        page.locator("#fade-out").focus()
        page.keyboard.press("ArrowRight")
        expected = f"{attempt / 10:.1f} s"
        assert page.locator("[data-out=fade_out_s]").inner_text() == expected
        page.reload()  # well before the autosave would have run
        wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, None, 0.2)
        assert page.locator("[data-out=fade_out_s]").inner_text() == expected, attempt
        wait_for(
            lambda a=attempt: Remix.objects.get(pk=remix.pk).recipe.get("fade_out_s") == a / 10,
            20,
            None,
            0.2,
        )


def test_failed_separation_reads_plain_words_and_runs_nothing_again(
    live_server, page, browser_fan, make_recording, artifacts_dir
):
    from remixing.services import stemset_for_recording

    recording, _ = make_recording(seconds=2.0)
    stem_set = stemset_for_recording(recording=recording, start=False)
    StemSet.objects.filter(pk=stem_set.pk).update(
        status="failed",
        attempts=3,
        stage="Failed",
        error=job_records.STEMS_FAILED,
        error_detail="<urlopen error [Errno -3] Temporary failure> … set model_repo",
    )
    login(page, browser_fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    page.wait_for_selector("[data-studio][data-state=error]")
    panel = page.locator("[data-separation]").inner_text()
    assert "We couldn't prepare the stems" in panel and job_records.STEMS_FAILED in panel
    html = page.content()
    assert "urlopen" not in html and "model_repo" not in html
    assert not page.locator("[data-sep-bar]").is_visible()
    assert "separated by" not in page.locator("[data-stems-source]").inner_text()
    page.screenshot(path=str(artifacts_dir / "studio-separation-failed.png"), full_page=True)
    page.reload()  # opening the studio again re-runs nothing
    page.wait_for_selector("[data-studio][data-state=error]")
    stem_set.refresh_from_db()
    assert stem_set.status == "failed" and stem_set.attempts == 3


def test_the_studio_streams_light_previews_never_lossless_files(
    pipeline, live_server, page, browser_fan, make_recording
):
    recording, _ = make_recording(official_stems=True)
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/media/" in r.url else None)
    open_studio(page, pipeline, browser_fan, recording)
    stem_set = StemSet.objects.get(recording=recording, status="ready")
    stems = list(stem_set.stems.all())
    assert all(stem.has_light_streams for stem in stems)
    # MP3: Chromium decodes it about five times faster than Opus (bench/studio.py).
    previews = {stem.preview_mp3.name for stem in stems}
    names = {url.split("/media/", 1)[1].split("?")[0] for url in fetched if ".preview." in url}
    assert previews == names
    # Each stream's head (preloaded by the page), then the rest.
    assert {url.split("/media/", 1)[1] for url in fetched if "?head=" in url} == {
        f"{name}?head={STEM_PREVIEW_HEAD_BYTES}" for name in previews
    }
    assert all(name.endswith(".preview.mp3") for name in previews)
    lossless = {stem.lossless.name for stem in stems}
    assert not [url for url in fetched if url.split("/media/", 1)[1] in lossless]
    assert not [url for url in fetched if url.endswith((".flac", ".wav"))]
    # The waveforms were drawn from the server's peaks, and the stems play.
    page.get_by_role("button", name="Play").click()
    # Polled from here: wait_for_function evals a string in the page, which the
    # site's CSP (no 'unsafe-eval') refuses; evaluate goes through DevTools.
    deadline = time.monotonic() + 10
    while page.evaluate("window.__studio.engine.level()") <= 0.001:
        assert time.monotonic() < deadline, "no signal at the analyser within 10 s"
        page.wait_for_timeout(100)
