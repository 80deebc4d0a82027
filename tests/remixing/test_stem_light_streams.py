"""The studio's light streams: every stem set gets Ogg Opus and MP3 previews
and waveform peaks once, made with its stems; the studio API hands out those,
never the lossless files; stems made before them are upgraded once."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from remixing import job_runner
from remixing.audio import STEM_PEAKS, STEM_PREVIEW_HEAD_BYTES, stem_peaks, write_stem
from remixing.engine.audio_io import load_audio, probe
from remixing.models import Stem, StemSet
from remixing.previews import stemset_light_streams_make
from remixing.services import remix_create
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db
SR = 44100


def _file(fieldfile) -> Path:
    return Path(settings.MEDIA_ROOT) / fieldfile.name


def test_peaks_follow_the_waveform():
    quiet_then_loud = np.zeros((2, SR * 2), dtype=np.float32)
    quiet_then_loud[:, SR:] = 0.5
    peaks = stem_peaks(quiet_then_loud)
    assert len(peaks) == STEM_PEAKS
    assert max(peaks[:499]) == 0.0 and min(peaks[501:]) == 0.5


def test_a_stem_gets_opus_and_mp3_previews_and_peaks(tmp_path):
    t = np.arange(SR * 2) / SR
    noise = 0.05 * np.random.default_rng(0).standard_normal(t.size)
    tone = np.stack([0.35 * np.sin(2 * np.pi * 440 * t) + noise] * 2).astype(np.float32)
    opus, mp3 = tmp_path / "drums.opus", tmp_path / "drums.mp3"
    info = write_stem(tone, SR, lossless=tmp_path / "drums.flac", preview=opus, preview_mp3=mp3)
    head = opus.read_bytes()[:64]
    assert head[:4] == b"OggS" and b"OpusHead" in head
    assert probe(opus).duration_s == pytest.approx(2.0, abs=0.05)
    assert probe(mp3).duration_s == pytest.approx(2.0, abs=0.1)
    # Preview bitrate: far lighter than the lossless file the render reads.
    assert opus.stat().st_size < 0.2 * (tmp_path / "drums.flac").stat().st_size
    assert opus.stat().st_size * 8 / 2.0 < 140_000  # bits per second, headers included
    decoded, rate = load_audio(mp3)
    assert rate == SR and 0.3 < float(np.max(np.abs(decoded))) < 0.5
    assert len(info["peaks"]) == STEM_PEAKS and min(info["peaks"]) > 0.35


@pytest.fixture
def ready_remix(make_recording, fan, django_capture_on_commit_callbacks):
    entitle(fan)
    recording, _ = make_recording(official_stems=True)
    with django_capture_on_commit_callbacks(execute=True):
        remix = remix_create(fan=fan, recording=recording, preset="chill")
    remix.refresh_from_db()
    if remix.stem_set.status != StemSet.Status.READY:  # queued ahead, at the consent grant
        assert job_runner.stemset_execute(remix.stem_set_id) == "ready"
        remix.refresh_from_db()
    assert remix.stem_set.status == StemSet.Status.READY
    return remix


def _stems_api(fan, remix) -> dict:
    client = APIClient()
    client.force_authenticate(fan)
    response = client.get(f"/api/v1/remixes/{remix.pk}/stems/")
    assert response.status_code == 200
    return response.json()


def test_the_studio_api_hands_out_light_streams_never_lossless(ready_remix, fan):
    body = _stems_api(fan, ready_remix)
    assert [s["name"] for s in body["stems"]] == ["bass", "drums", "other", "vocals"]
    for entry in body["stems"]:
        stem = Stem.objects.get(stem_set=ready_remix.stem_set, name=entry["name"])
        assert entry["url"].endswith(f"/media/{stem.preview.name}")
        assert stem.preview.name.endswith(".preview.opus")
        assert entry["url_mp3"].endswith(f"/media/{stem.preview_mp3.name}")
        assert len(entry["peaks"]) == STEM_PEAKS
        assert stem.lossless.name not in str(body)
        assert _file(stem.preview).read_bytes()[:4] == b"OggS"


def _make_legacy(stem_set: StemSet) -> dict[str, Path]:
    """What stems made before light streams look like: an Ogg Vorbis preview only."""
    vorbis = {}
    for stem in stem_set.stems.all():
        name = f"remixing/stems/{stem_set.pk}/{stem.name}.preview.ogg"
        _file(stem.preview).rename(_file(stem.preview).with_name(Path(name).name))
        _file(stem.preview_mp3).unlink()
        Stem.objects.filter(pk=stem.pk).update(preview=name, preview_mp3="", peaks=[])
        vorbis[stem.name] = Path(settings.MEDIA_ROOT) / name
    return vorbis


def test_older_stems_are_upgraded_once_when_the_studio_asks(
    ready_remix, fan, django_capture_on_commit_callbacks
):
    stem_set = ready_remix.stem_set
    vorbis = _make_legacy(stem_set)
    cache.delete(f"stem-light-streams:{stem_set.pk}")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        body = _stems_api(fan, ready_remix)
        _stems_api(fan, ready_remix)  # asked again: not queued twice
    assert len(queued) == 1
    # Meanwhile the old lossy preview plays and the browser draws its own peaks.
    assert all(s["url"].endswith(".preview.ogg") and s["peaks"] is None for s in body["stems"])
    assert all(s["url_mp3"] is None for s in body["stems"])

    assert stemset_light_streams_make(stem_set_id=stem_set.pk) == {
        "made": 4,
        "ready": 0,
        "failed": 0,
    }
    body = _stems_api(fan, ready_remix)
    assert all(s["url"].endswith(".preview.opus") and len(s["peaks"]) == STEM_PEAKS
               for s in body["stems"])  # fmt: skip
    assert not any(path.exists() for path in vorbis.values())  # the Vorbis files are gone
    assert stemset_light_streams_make(stem_set_id=stem_set.pk)["ready"] == 4


def test_the_command_upgrades_every_ready_stem_set(ready_remix):
    _make_legacy(ready_remix.stem_set)
    out = StringIO()
    call_command("make_stem_previews", "--all", stdout=out)
    assert (
        f"stem set {ready_remix.stem_set.pk}: 4 made, 0 already there, 0 failed" in out.getvalue()
    )
    assert all(stem.has_light_streams for stem in ready_remix.stem_set.stems.all())


def test_the_studio_page_carries_its_stems_and_preloads_their_mp3_heads(ready_remix, fan, client):
    client.force_login(fan)
    response = client.get(f"/studio/remixes/{ready_remix.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    stems = list(ready_remix.stem_set.stems.order_by("name"))
    for stem in stems:
        assert (
            '<link rel="preload" as="fetch" crossorigin '
            f'href="/media/{stem.preview_mp3.name}?head={STEM_PREVIEW_HEAD_BYTES}">' in html
        )
        assert stem.lossless.name not in html
    config = response.context["config"]
    assert [s["name"] for s in config["stems"]] == ["bass", "drums", "other", "vocals"]
    assert all(len(s["peaks"]) == STEM_PEAKS for s in config["stems"])
    assert config["stemsSource"] == "Official stems supplied by the rights holder"
