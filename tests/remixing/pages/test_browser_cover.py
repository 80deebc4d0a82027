"""Sing your own cover in the browser (issue 17, item 3): Chromium with a fake
microphone (its fake media stream flags, fed a 1.5 kHz tone) records takes over the
remix after the count-in, the fan picks one, and the rendered export contains it."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import soundfile
from playwright.sync_api import expect

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
    fan, recording, remix = _open_studio(page, pipeline, make_recording, "cover-fan@example.com")
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


# ---- the chosen take in the studio's own playback ---------------------------------------

# How far the take's tone (`hz`: 1.5 kHz, moved by the varispeed preview) stands above the
# band a fifth of it below in what the studio plays now (its AnalyserNode, after the effects
# and the master), in dB, averaged over half a second.
TONE_PROMINENCE_JS = """async (toneHz) => {
  const a = window.__studio.engine.analyser;
  const data = new Float32Array(a.frequencyBinCount);
  const hz = a.context.sampleRate / a.fftSize;
  const bin = (f) => Math.round(f / hz);
  const db = (k) => Math.max(data[k], -200);
  let total = 0;
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 50));
    a.getFloatFrequencyData(data);
    let tone = -200;
    for (let k = bin(toneHz - 50); k <= bin(toneHz + 50); k++) tone = Math.max(tone, db(k));
    let sum = 0;
    const low = bin(toneHz * 0.667), high = bin(toneHz * 0.933);
    for (let k = low; k <= high; k++) sum += db(k);
    total += tone - sum / (high - low + 1);
  }
  return total / 10;
}"""
WAIT_MS = 45_000  # for what the page shows after a request: generous, for a loaded machine
HEARD_DB = 20.0  # the take in the mix: the tone towers over its neighbours
SILENT_DB = 8.0  # the stems alone: no such tone


def _preview_tone(page, *, heard: bool, hz: float = TONE_HZ, timeout: float = 45.0) -> float:
    """Wait until the take is (or is not) heard in the studio's playback."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        seen.append(round(page.evaluate(TONE_PROMINENCE_JS, hz), 1))
        if (seen[-1] > HEARD_DB) if heard else (seen[-1] < SILENT_DB):
            return seen[-1]
    raise AssertionError(f"take {'never heard' if heard else 'still heard'}: {seen[-12:]} dB")


def _open_studio(page, pipeline, make_recording, email: str):
    fan = UserFactory(email=email, is_fan=True)
    entitle(fan)
    recording, _ = make_recording(
        terms={"covers": True, "vocals_removed": True}, official_stems=True, seconds=6
    )
    login(page, fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)
    return fan, recording, Remix.objects.filter(fan=fan, recording=recording).latest("pk")


_CARD_LOOK = """(selector) => {
  const card = getComputedStyle(document.querySelector(selector));
  return [card.backgroundImage, card.aspectRatio, card.fontSize, card.color, card.display];
}"""


def test_the_cover_section_looks_like_the_studio_s_other_cards(
    pipeline, live_server, mic_page, make_recording
):
    # Probe: the section was styled as a track's album-art tile (a purple gradient
    # square, 48 px white headings over the advice, take names and controls).
    page = mic_page
    _open_studio(page, pipeline, make_recording, "cover-look@example.com")
    assert page.evaluate(_CARD_LOOK, "[data-cover]") == page.evaluate(_CARD_LOOK, "[data-describe]")


def _loop(page, start: float, end: float) -> None:
    for selector, value in (("[data-loop-start]", start), ("[data-loop-end]", end)):
        page.locator(selector).fill(str(value))
        page.locator(selector).dispatch_event("change")
    page.get_by_role("button", name="Loop", exact=True).click()


def test_the_chosen_take_plays_in_the_studio_mix_and_leaves_it_when_unchosen(
    pipeline, live_server, mic_page, make_recording
):
    page = mic_page
    _open_studio(page, pipeline, make_recording, "cover-preview@example.com")
    _record_take(page, 4.0)  # the fan sings from the first beat for about two seconds
    _loop(page, 0.2, 1.2)  # a second the take sings through, played over and over
    page.get_by_role("button", name="Play", exact=True).click()
    _preview_tone(page, heard=False)  # the stems alone: no take yet

    page.get_by_role("button", name="Use take 1 as your cover vocal").click()
    _preview_tone(page, heard=True)
    # Its own mute and volume, like a stem's.
    mixer = page.locator("[data-cover-mixer]")
    mute = mixer.get_by_role("button", name="Mute your cover vocal")
    mute.click()
    assert mute.get_attribute("aria-pressed") == "true"
    _preview_tone(page, heard=False)
    mute.click()
    _preview_tone(page, heard=True)
    volume = mixer.get_by_label("Cover vocal volume (dB)")
    volume.focus()
    volume.press("ArrowLeft")
    _poll(page, "window.__studio.recipe.cover.gain_db === -0.5")

    page.get_by_role("button", name="No cover vocal").click()
    _poll(page, "!window.__studio.recipe.cover")
    _preview_tone(page, heard=False)
    page.get_by_role("button", name="Undo", exact=True).click()  # the choice comes back
    _poll(page, "!!window.__studio.recipe.cover")
    _preview_tone(page, heard=True)
    assert mixer.is_visible()
    # Slowed to 90 %: the preview's varispeed plays the take with the stems, at 0.9 times
    # the speed it was sung (so its tone is at 1.35 kHz now).
    tempo = page.locator("#tempo")
    tempo.focus()
    for _ in range(10):
        tempo.press("ArrowLeft")
    _poll(page, "Math.abs(window.__studio.recipe.tempo_ratio - 0.9) < 1e-9")
    assert page.evaluate("window.__studio.recipe.cover.sung_tempo_ratio") == 1
    _preview_tone(page, heard=True, hz=TONE_HZ * 0.9)


# ---- deleting a take ---------------------------------------------------------------------


def _take_upload(remix, fan, folder) -> str:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from remixing.services import cover_take_create

    from ..covers_audio import take_audio, webm_take

    path = webm_take(folder, take_audio(silence_s=1.0))
    upload = SimpleUploadedFile("take.webm", path.read_bytes(), "audio/webm")
    return cover_take_create(remix=remix, fan=fan, upload=upload, lead_s="1.0").ref


def test_a_fan_deletes_takes_after_a_plain_question_and_the_chosen_one_leaves_the_remix(
    pipeline, live_server, mic_page, make_recording, tmp_path
):
    page = mic_page
    fan, _, remix = _open_studio(page, pipeline, make_recording, "cover-delete@example.com")
    first, second = (_take_upload(remix, fan, tmp_path) for _ in range(2))
    page.reload()
    wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 60, pipeline, 0.3)
    takes = page.locator("[data-cover-takes] li")
    expect(takes).to_have_count(2, timeout=WAIT_MS)
    page.get_by_role("button", name="Use take 2 as your cover vocal").click()
    expect(page.locator("[data-save-state]")).to_have_text("saved", timeout=WAIT_MS)

    # Asked first, in plain words; "Keep it" (or Escape) keeps the take.
    page.get_by_role("button", name="Delete take 1").click()
    question = page.get_by_role("group", name="Delete take 1?")
    expect(question).to_contain_text(
        "Delete take 1 for good? You cannot get it back.", timeout=WAIT_MS
    )
    page.set_viewport_size({"width": 390, "height": 844})
    assert offscreen(page, 390) == []
    assert serious(axe_violations(page)) == []
    question.get_by_role("button", name="Keep it").click()
    expect(question).to_have_count(0, timeout=WAIT_MS)
    expect(takes).to_have_count(2, timeout=WAIT_MS)
    # From the keyboard: Enter opens the question, Escape closes it, Enter confirms.
    page.get_by_role("button", name="Delete take 1").focus()
    page.keyboard.press("Enter")
    expect(question).to_be_visible(timeout=WAIT_MS)
    page.keyboard.press("Escape")
    expect(question).to_have_count(0, timeout=WAIT_MS)
    expect(page.get_by_role("button", name="Delete take 1")).to_be_focused(timeout=WAIT_MS)
    page.keyboard.press("Enter")
    question.get_by_role("button", name="Yes, delete take 1").focus()
    page.keyboard.press("Enter")
    expect(takes).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("[data-cover-status]")).to_have_text("Take 1 deleted.", timeout=WAIT_MS)
    assert list(CoverTake.objects.filter(remix=remix).values_list("ref", flat=True)) == [second]
    assert not CoverTake.objects.filter(ref=first).exists()

    # The chosen take: the question says the remix loses its cover vocal; deleting it
    # takes the choice out of the remix first (saved), then the take.
    page.get_by_role("button", name="Delete take 1").click()
    expect(question).to_contain_text("your remix will have no cover vocal", timeout=WAIT_MS)
    question.get_by_role("button", name="Yes, delete take 1").click()
    expect(takes).to_have_count(0, timeout=WAIT_MS)
    assert page.evaluate("window.__studio.recipe.cover === undefined")
    assert CoverTake.objects.filter(remix=remix).count() == 0
    remix.refresh_from_db()
    assert "cover" not in remix.recipe
    # Deleted for good: Undo steps back through the edits without choosing it again.
    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.locator("[data-cover-error]")).to_have_text("", timeout=WAIT_MS)
    assert page.evaluate("window.__studio.recipe.cover === undefined")


# ---- the whole cover flow through checkout -------------------------------------------------


def test_a_recorded_cover_is_paid_for_on_checkout_and_downloaded_with_its_singer_credited(
    pipeline, stripe_live, mic_page, make_recording, tmp_path
):
    from marketplace.billing.services.plans import plan_catalog_sync
    from remixing.engine.tagging import read_tags
    from tests.fixtures.stripe import CARD_OK

    plan_catalog_sync()
    page = mic_page
    fan, recording, remix = _open_studio(page, pipeline, make_recording, "cover-pay@example.com")
    _record_take(page, 4.0)
    page.get_by_role("button", name="Use take 1 as your cover vocal").click()
    expect(page.locator("[data-save-state]")).to_have_text("saved", timeout=WAIT_MS)

    page.get_by_test_id("export").click()
    page.wait_for_url(f"{stripe_live.url}/**", timeout=60_000)
    page.locator("input[name=card_number]").fill(CARD_OK)
    expiry = page.locator("input[name=expiry]")
    if expiry.count():
        expiry.fill("12/34")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"**/my/remixes/{remix.pk}/**", timeout=60_000)
    # The webhook marks the order paid and the worker renders it (with the take).
    wait_for(lambda: page.locator("[data-testid=remix-player]").count(), 180, pipeline, 0.5)
    with page.expect_download() as download:
        page.get_by_test_id("download-mp3").click()
    path = tmp_path / "downloaded.mp3"
    download.value.save_as(path)
    audio, _ = load_audio(path, samplerate=SR)
    assert _tone_ratio(audio) > 20, "the fan's take is not in the file they paid for"
    original, _ = load_audio(recording.audio.path, samplerate=SR)
    assert _tone_ratio(original) < 2
    tags = read_tags(path)
    assert tags["TXXX:COVER_PERFORMER"] == [fan.display_name]
    assert fan.email not in str(tags)
