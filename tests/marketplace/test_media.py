"""Media by ownership (marketplace.media): the row that owns a file decides,
never its path. Over HTTP, with every role and path trick: test_media_http."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.utils.timezone import now

from catalog.models import OfficialStem
from marketplace.media_access import MEDIA_OWNERS
from remixing.models import RecordingPreview, Remix, Stem, StemSet
from tests.catalog.factories import RecordingFactory, remixable_recording
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle, make_remix

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def put(name: str, data: bytes = b"audio-bytes") -> str:
    return default_storage.save(name, ContentFile(data))


def status(client, name: str) -> int:
    return client.get(f"/media/{name}").status_code


def test_every_file_field_in_the_project_has_an_owner_rule():
    covered = {(owner.model, field) for owner in MEDIA_OWNERS for field in owner.fields}
    fields = {
        (model, field.name)
        for model in apps.get_models()
        if model._meta.app_label in ("accounts", "catalog", "remixing", "marketplace", "royalties")
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    }
    assert fields == covered


def test_official_stems_are_for_staff_and_the_artist_only(client, media):
    recording, _party, owner = remixable_recording()
    name = put("catalog/stems/drums-test.flac")
    OfficialStem.objects.create(recording=recording, name="drums", file=name, sha256="0" * 64)
    assert status(client, name) == 404
    fan = UserFactory()
    entitle(fan)
    client.force_login(fan)
    assert status(client, name) == 404
    client.force_login(UserFactory(is_auditor=True, is_staff=True))
    assert status(client, name) == 200
    client.force_login(owner)
    assert status(client, name) == 200


def test_stem_previews_need_studio_access_and_lossless_stems_never_leave(client, media):
    stem_set = StemSet.objects.create(audio_sha256="a" * 64, model_name="htdemucs")
    stem = Stem.objects.create(
        stem_set=stem_set,
        name="vocals",
        preview=put(f"remixing/stems/{stem_set.pk}/vocals.preview.ogg"),
        lossless=put(f"remixing/stems/{stem_set.pk}/vocals.flac"),
        duration_s=3.0,
        sha256="b" * 64,
    )
    client.force_login(UserFactory())
    assert status(client, stem.preview.name) == 404  # no subscriptions
    fan = UserFactory()
    entitle(fan)
    client.force_login(fan)
    assert status(client, stem.preview.name) == 200
    assert status(client, stem.lossless.name) == 404
    # Another stem set's folder does not lend its rows to this file.
    assert status(client, f"remixing/stems/{stem_set.pk + 1}/vocals.preview.ogg") == 404


def test_a_remix_file_is_its_fans_until_published(client, media):
    fan = UserFactory()
    remix = make_remix(owner=fan)
    remix.output_mp3 = put(f"remixing/remixes/{remix.pk}/remix-{remix.pk}.mp3")
    remix.output_wav = put(f"remixing/remixes/{remix.pk}/remix-{remix.pk}.wav")
    remix.save()
    name, wav = remix.output_mp3.name, remix.output_wav.name
    assert status(client, name) == 404
    client.force_login(UserFactory())
    assert status(client, name) == 404
    client.force_login(fan)
    assert status(client, name) == 200
    assert status(client, wav) == 200
    Remix.objects.filter(pk=remix.pk).update(status=Remix.Status.PUBLISHED, published_at=now())
    client.logout()
    assert status(client, name) == 200
    assert status(client, wav) == 404  # the lossless export stays the fan's


def test_masters_are_private_and_files_no_row_owns_do_not_exist(client, media):
    recording = RecordingFactory(audio=put("catalog/recordings/original.flac"))
    orphan = put("catalog/recordings/orphan.flac")
    other = put("healthz/probe.txt")
    assert status(client, recording.audio.name) == 404
    client.force_login(UserFactory(is_staff=True))
    assert status(client, recording.audio.name) == 200
    assert status(client, orphan) == 404
    assert status(client, other) == 404


def test_only_get_and_head(client, media):
    recording = RecordingFactory(audio=put("catalog/recordings/original.flac"))
    client.force_login(UserFactory(is_staff=True))
    assert client.head(f"/media/{recording.audio.name}").status_code == 200
    assert client.post(f"/media/{recording.audio.name}").status_code == 405


def test_audio_players_can_seek_with_byte_ranges(client, media):
    recording = RecordingFactory()
    preview = RecordingPreview.objects.create(
        recording=recording,
        status="ready",
        excerpt=put(f"remixing/previews/{recording.pk}/x-excerpt.ogg", bytes(range(200))),
    )
    url = f"/media/{preview.excerpt.name}"
    whole = client.get(url)
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Cache-Control"] == "public, no-cache"
    part = client.get(url, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 10-19/200"
    assert b"".join(part.streaming_content) == bytes(range(10, 20))
    tail = client.get(url, HTTP_RANGE="bytes=-5")
    assert b"".join(tail.streaming_content) == bytes(range(195, 200))
    assert client.get(url, HTTP_RANGE="bytes=500-").status_code == 416


def test_a_head_of_a_file_is_a_response_of_its_own_that_a_page_can_preload(client, media):
    # The studio preloads each stem stream's first seconds (`?head=N`: a preload
    # sends no Range header), then asks for the rest with a Range.
    recording = RecordingFactory()
    preview = RecordingPreview.objects.create(
        recording=recording,
        status="ready",
        excerpt=put(f"remixing/previews/{recording.pk}/x-excerpt.ogg", bytes(range(200))),
    )
    url = f"/media/{preview.excerpt.name}"
    head = client.get(f"{url}?head=50")
    assert head.status_code == 200
    assert head["Content-Length"] == "50" and head["X-Full-Length"] == "200"
    assert b"".join(head.streaming_content) == bytes(range(50))
    assert head["Cache-Control"] == "public, no-cache"
    rest = client.get(url, HTTP_RANGE="bytes=50-")
    assert rest["Content-Range"] == "bytes 50-199/200"
    assert b"".join(rest.streaming_content) == bytes(range(50, 200))
    whole = client.get(f"{url}?head=999")
    assert b"".join(whole.streaming_content) == bytes(range(200))
    assert whole["X-Full-Length"] == "200"
    for odd in ("0", "-1", "x", "99999999999"):
        assert "X-Full-Length" not in client.get(f"{url}?head={odd}")  # the whole file


def test_private_files_are_never_kept_by_shared_caches(client, media):
    fan = UserFactory()
    remix = make_remix(owner=fan)
    remix.output_mp3 = put(f"remixing/remixes/{remix.pk}/remix-{remix.pk}.mp3")
    remix.save()
    client.force_login(fan)
    response = client.get(f"/media/{remix.output_mp3.name}")
    assert response["Cache-Control"] == "private, max-age=300"


def test_the_download_view_never_follows_a_symlink_either(client, media):
    fan = UserFactory()
    remix = make_remix(owner=fan)
    master = RecordingFactory(audio=put("catalog/recordings/master.flac", b"MASTER"))
    folder = media / f"remixing/remixes/{remix.pk}"
    folder.mkdir(parents=True)
    (folder / "remix.ogg").symlink_to(media / master.audio.name)
    (folder / "remix.mp3").write_bytes(b"REMIX")
    Remix.objects.filter(pk=remix.pk).update(
        status=Remix.Status.READY,
        output_ogg=f"remixing/remixes/{remix.pk}/remix.ogg",
        output_mp3=f"remixing/remixes/{remix.pk}/remix.mp3",
    )
    client.force_login(fan)
    download = client.get(f"/my/remixes/{remix.pk}/download/mp3/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"REMIX"
    assert client.get(f"/my/remixes/{remix.pk}/download/ogg/").status_code == 404
    assert client.get(f"/media/remixing/remixes/{remix.pk}/remix.ogg").status_code == 404
