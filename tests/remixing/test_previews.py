"""The original's lossy previews: made once per master, full length for those
who may open the studio, a short excerpt for everyone else; never the master."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from catalog import signals
from catalog.services.takedowns import takedown_place
from remixing.engine.audio_io import probe
from remixing.models import RecordingPreview
from remixing.previews import recording_preview_make
from remixing.services import remix_create
from remixing.services.previews import recording_preview_request
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db


def _file(fieldfile) -> Path:
    return Path(settings.MEDIA_ROOT) / fieldfile.name


def test_previews_are_lossy_made_once_and_the_excerpt_is_short(make_recording):
    recording, _ = make_recording(seconds=4.0)
    assert recording_preview_make(recording_id=recording.pk) == "ready"
    preview = RecordingPreview.objects.get(recording=recording)
    full, excerpt = _file(preview.full), _file(preview.excerpt)
    assert full.read_bytes()[:4] == excerpt.read_bytes()[:4] == b"OggS"
    assert probe(full).duration_s == pytest.approx(4.0, abs=0.1)
    assert probe(excerpt).duration_s == pytest.approx(2.0, abs=0.1)  # at most half
    assert preview.excerpt_s == pytest.approx(2.0, abs=0.05)
    assert preview.audio_sha256 == recording.audio_sha256
    made = full.stat().st_mtime_ns
    assert recording_preview_make(recording_id=recording.pk) == "ready"
    assert full.stat().st_mtime_ns == made  # never encoded again


def test_a_new_master_gets_new_previews_and_the_old_ones_go(make_recording):
    recording, _ = make_recording(seconds=2.0)
    recording_preview_make(recording_id=recording.pk)
    old = RecordingPreview.objects.get(recording=recording)
    recording.audio_sha256 = "f" * 64
    recording.save(update_fields=["audio_sha256"])
    assert recording_preview_make(recording_id=recording.pk) == "ready"
    new = RecordingPreview.objects.get(recording=recording)
    assert new.full.name != old.full.name and _file(new.full).exists()
    assert not _file(old.full).exists()


def test_asking_queues_the_encoding_once(make_recording, django_capture_on_commit_callbacks):
    recording, _ = make_recording(seconds=2.0)
    with django_capture_on_commit_callbacks() as queued:
        recording_preview_request(recording=recording)
        recording_preview_request(recording=recording)
    assert len(queued) == 1
    with django_capture_on_commit_callbacks() as queued:
        signals.recording_audio_stored.send(sender=None, recording_id=recording.pk)
    assert queued == []  # already waiting for a worker


def test_uploaded_audio_is_announced_and_its_preview_queued(
    make_recording, django_capture_on_commit_callbacks
):
    recording, _ = make_recording(seconds=2.0)
    with django_capture_on_commit_callbacks(execute=True):
        signals.recording_audio_stored.send(sender=None, recording_id=recording.pk)
    assert RecordingPreview.objects.get(recording=recording).status == "pending"


def _track_page(client, recording) -> str:
    return client.get(reverse("marketplace:track_detail", args=[recording.pk])).content.decode()


def test_the_track_page_plays_a_preview_never_the_master(client, make_recording):
    recording, artist = make_recording(seconds=3.0)
    page = _track_page(client, recording)
    assert "The preview is being prepared" in page
    assert recording.audio.name not in page
    recording_preview_make(recording_id=recording.pk)
    preview = RecordingPreview.objects.get(recording=recording)

    page = _track_page(client, recording)  # a visitor: the excerpt
    assert f"/media/{preview.excerpt.name}" in page
    assert preview.full.name not in page and recording.audio.name not in page
    assert "1-second excerpt" in page or "2-second excerpt" in page
    assert "Subscribers hear the whole track" in page
    assert client.get(f"/media/{preview.excerpt.name}").status_code == 200
    assert client.get(f"/media/{preview.full.name}").status_code == 404
    assert client.get(f"/media/{recording.audio.name}").status_code == 404

    subscriber = UserFactory()
    entitle(subscriber)
    client.force_login(subscriber)
    page = _track_page(client, recording)
    assert f"/media/{preview.full.name}" in page and recording.audio.name not in page
    assert client.get(f"/media/{preview.full.name}").status_code == 200
    assert client.get(f"/media/{recording.audio.name}").status_code == 404

    client.force_login(artist)  # the artist hears it all, and may fetch the master
    assert f"/media/{preview.full.name}" in _track_page(client, recording)
    assert client.get(f"/media/{recording.audio.name}").status_code == 200


def test_the_studio_compares_with_the_full_preview_not_the_master(client, make_recording):
    recording, _ = make_recording(official_stems=True)
    recording_preview_make(recording_id=recording.pk)
    fan = UserFactory()
    entitle(fan)
    remix = remix_create(fan=fan, recording=recording)
    client.force_login(fan)
    html = client.get(reverse("remixing:studio", args=[remix.pk])).content.decode()
    marker = 'id="studio-config" type="application/json">'
    start = html.index(marker) + len(marker)
    config = json.loads(html[start : html.index("</script>", start)])
    preview = RecordingPreview.objects.get(recording=recording)
    assert config["originalUrl"] == f"/media/{preview.full.name}"
    assert client.get(config["originalUrl"]).status_code == 200


def test_a_takedown_silences_the_previews_for_everyone_but_the_artist(client, make_recording):
    recording, artist = make_recording(seconds=2.0)
    recording_preview_make(recording_id=recording.pk)
    preview = RecordingPreview.objects.get(recording=recording)
    takedown_place(recording=recording, actor=UserFactory(is_staff=True), reason="Claim")
    subscriber = UserFactory()
    entitle(subscriber)
    for user in (None, subscriber):
        if user is not None:
            client.force_login(user)
        page = _track_page(client, recording)
        assert "Listen to the original" not in page
        assert client.get(f"/media/{preview.excerpt.name}").status_code == 404
        assert client.get(f"/media/{preview.full.name}").status_code == 404
    client.force_login(artist)
    assert client.get(f"/media/{preview.full.name}").status_code == 200


def test_the_command_makes_missing_previews_once(make_recording):
    first, _ = make_recording(seconds=1.0)
    second, _ = make_recording(seconds=1.0)
    out = StringIO()
    call_command("make_previews", "--all", stdout=out)
    call_command("make_previews", str(first.pk), stdout=out)
    assert out.getvalue().splitlines() == [
        f"{first.pk} {first.title}: ready",
        f"{second.pk} {second.title}: ready",
        f"{first.pk} {first.title}: ready",
    ]
    assert RecordingPreview.objects.filter(status="ready").count() == 2
