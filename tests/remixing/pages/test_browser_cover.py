"""Sing your own cover in the browser (issue 17, item 3): Chromium with a fake
microphone (its fake media stream flags, fed a 1.5 kHz tone) records takes over the
remix after the count-in, the fan picks one, and the rendered export contains it."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import soundfile

from remixing.engine.audio_io import load_audio
from remixing.models import CoverTake, Remix
from remixing.services import remix_render_start
from tests.fixtures.a11y import axe_violations, duplicate_ids, offscreen, serious
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, CspWatch, login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser
SR = 44100
TONE_HZ = 1500.0


@pytest.fixture(scope="module")
def mic_browser(browser, tmp_path_factory):
    """A second Chromium from the same Playwright, with a fake microphone that
    'sings' a steady 1.5 kHz tone and no permission prompt."""
    voice = tmp_path_factory.mktemp("mic") / "voice.wav"
    t = np.arange(SR * 20) / SR
    soundfile.write(voice, 0.5 * np.sin(2 * np.pi * TONE_HZ * t), SR, subtype="PCM_16")
    flags = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={voice}",
    ]
    instance = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + flags)
    yield instance
    instance.close()


@pytest.fixture
def mic_page(mic_browser, live_server):
    context = mic_browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.grant_permissions(["microphone"], origin=live_server.url)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    csp = CspWatch(live_server.url)
    tab.on("console", csp.on_console)
    tab.on("response", csp.on_response)
    yield tab
    context.close()
    if csp.problems():
        pytest.fail("\n".join(csp.problems()), pytrace=False)


def _poll(page, script: str, timeout: float = 20.0):
    """CSP forbids eval, so no wait_for_function: poll with evaluate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {script}")


def _record_take(page, seconds: float) -> None:
    count = page.locator("[data-cover-takes] li").count()
    page.get_by_role("button", name="Record a take").click()
    _poll(page, "document.querySelector('[data-cover]').dataset.state === 'recording'")
    time.sleep(seconds)
    page.get_by_role("button", name="Stop", exact=True).last.click()
    _poll(page, f"document.querySelectorAll('[data-cover-takes] li').length === {count + 1}", 30)


def _tone_ratio(audio: np.ndarray) -> float:
    """Power at 1.5 kHz against the band around it: high only if the take is in the mix."""
    mono = audio.mean(axis=0)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size))) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1 / SR)
    tone = spectrum[(freqs > TONE_HZ - 15) & (freqs < TONE_HZ + 15)].sum()
    around = spectrum[(freqs > 1000) & (freqs < 1400)].sum() + 1e-12
    return float(tone / around)


def test_a_fan_records_takes_picks_one_and_the_export_contains_it(
    pipeline, live_server, mic_page, make_recording, settings
):
    page = mic_page
    fan = UserFactory(email="cover-fan@example.com", is_fan=True)
    entitle(fan)
    recording, _ = make_recording(
        terms={"covers": True, "vocals_removed": True}, official_stems=True, seconds=6
    )
    login(page, fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)
    remix = Remix.objects.filter(fan=fan, recording=recording).latest("pk")
    advice = page.locator("[data-cover-advice]").inner_text()
    assert "Wear headphones" in advice
    # Usable on a 390 px phone: nothing wider than the screen.
    assert serious(axe_violations(page)) == []
    assert duplicate_ids(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert offscreen(page, 390) == []

    page.get_by_role("button", name="Measure latency").click()
    _poll(
        page,
        "/Latency: .*\\d+ ms/.test(document.querySelector('[data-cover-latency]').textContent)",
    )
    assert page.locator("[data-cover-error]").is_hidden()

    _record_take(page, 3.5)  # a one-bar count-in at 120 BPM, then 1.3 s of singing
    _record_take(page, 4.0)
    takes = list(CoverTake.objects.filter(remix=remix).order_by("created_at"))
    assert len(takes) == 2 and all(t.lead_s > 1.9 for t in takes)  # 4 beats at 120 BPM
    assert all(t.latency_ms is not None for t in takes)

    page.get_by_role("button", name="Use take 2 as your cover vocal").click()
    _poll(
        page,
        f"window.__studio.recipe.cover && window.__studio.recipe.cover.take === '{takes[1].ref}'",
    )
    _poll(page, "document.querySelector('[data-save-state]').textContent.trim() === 'saved'")
    wait_for(lambda: Remix.objects.get(pk=remix.pk).recipe.get("cover"), 20)
    remix.refresh_from_db()
    assert remix.recipe["cover"]["take"] == takes[1].ref

    settings.REMIXING_RENDER_WAV = True
    remix_render_start(remix=remix)  # as fulfilment does once the order is paid
    wait_for(lambda: Remix.objects.get(pk=remix.pk).status == "ready", 120, pipeline, 0.5)
    remix.refresh_from_db()
    audio, _ = load_audio(remix.output_mp3.path, samplerate=SR)
    assert _tone_ratio(audio) > 20, "the fan's take is not in the export"
    original, _ = load_audio(recording.audio.path, samplerate=SR)
    assert _tone_ratio(original) < 2  # the track itself has no such tone
    assert remix.events.get(to_status="ready").data["cover_performer"] == fan.display_name
