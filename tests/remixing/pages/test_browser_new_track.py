"""A track uploaded without official stems is separated before any fan arrives, by the
embedded separator (no weights, no network), and the fan's studio plays it at once.

The artist uploads through the upload page in Chromium and keeps their catalog-wide
consent; the splits are entered through the same service as the split editor. Becoming
remixable queues the separation (issue 12, item 4): the worker (a real Celery worker on
PostgreSQL + Redis, in-process otherwise) separates it with the embedded backend; then a
fan opens the studio, which names who made the stems, and hears them."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import soundfile
from django.urls import reverse

from catalog import services
from catalog.models import Party, Recording
from remixing.engine.synth import synth_track
from remixing.models import StemSet
from tests.catalog.factories import complete_splits
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SR = 44100
STEMS = ("bass", "drums", "other", "vocals")


@pytest.fixture
def embedded_backend(monkeypatch, settings):
    """Separate as an install without Demucs weights does (the test settings name the
    `demucs_unittest` model, which needs none): here and in the worker (before `pipeline`)."""
    settings.SEPARATION_BACKEND = "embedded"
    monkeypatch.setenv("CLEARMIX_TEST_SEPARATION_BACKEND", "embedded")


def _song(tmp_path) -> tuple[str, dict[str, np.ndarray]]:
    parts = synth_track(seed=12, bpm=120, key="A minor", duration_s=20.0, samplerate=SR)
    path = tmp_path / "night-drive.wav"
    soundfile.write(path, parts["mix"].T, SR, subtype="PCM_16")
    return str(path), parts


def _rms(data: bytes) -> float:
    audio, _ = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return float(np.sqrt(np.mean(np.square(audio))))


def _upload(browser, live_server, tmp_path) -> Recording:
    artist = UserFactory(email="nova@example.com", is_artist=True, is_fan=False)
    party = Party.objects.create(kind="artist", name="Nova Lane", user=artist, claim_verified=True)
    services.consent_grant(party=party, actor=artist, terms={}, reason="opt in")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    login(page, artist.email, PASSWORD)
    page.goto(reverse("catalog:recording_upload"))
    audio, _ = _song(tmp_path)
    page.locator("#id_audio").set_input_files(audio)
    page.locator("#id_title").fill("Night Drive")
    page.get_by_label("Keep it covered by my catalog-wide consent").check()
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    context.close()
    return Recording.objects.get(title="Night Drive")


def test_an_uploaded_track_is_separated_by_the_embedded_backend_and_heard_in_the_studio(
    embedded_backend, pipeline, live_server, browser, tmp_path
):
    recording = _upload(browser, live_server, tmp_path)
    assert not StemSet.objects.filter(recording=recording).exists()  # not remixable yet
    complete_splits(recording)  # remixable now: the separation is queued on commit
    recording.refresh_from_db()
    assert recording.is_remixable
    stem_set = wait_for(
        lambda: StemSet.objects.filter(recording=recording, status="ready").first(), 120, pipeline
    )
    assert stem_set.backend == StemSet.Backend.EMBEDDED
    stems = {stem.name: stem for stem in stem_set.stems.all()}
    assert sorted(stems) == list(STEMS)
    mix_rms = _rms(recording.audio.open("rb").read())
    for name, stem in stems.items():  # four real stems, each carrying part of the song
        assert _rms(stem.lossless.open("rb").read()) > 0.05 * mix_rms, name

    fan = UserFactory(email="new-track-fan@example.com", is_fan=True)
    entitle(fan)
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    console: list[str] = []
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    login(page, fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")
    page.wait_for_selector("[data-studio][data-state=ready]")
    source = page.locator("[data-stems-source]").inner_text()
    assert "Separated by Clearmix's embedded separator" in source
    assert "no neural network" in source
    page.get_by_role("button", name="Play").first.click()
    peak = page.evaluate(
        """async () => {
          const e = window.__studio.engine;
          let peak = 0;
          for (let i = 0; i < 40; i++) {
            await new Promise((r) => setTimeout(r, 25));
            peak = Math.max(peak, e.level());
          }
          return peak;
        }"""
    )
    assert peak > 0.01, peak
    assert not console, console
    context.close()
