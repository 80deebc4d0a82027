"""Local media obeys the same rights as the pages: stems stay private."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.timezone import now

from catalog.models import OfficialStem
from remixing.models import Remix
from tests.catalog.factories import remixable_recording
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle, make_remix

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def put(name: str) -> str:
    return default_storage.save(name, ContentFile(b"audio-bytes"))


def status(client, name: str) -> int:
    return client.get(f"/media/{name}").status_code


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
    preview = put("remixing/stems/7/vocals.preview.ogg")
    lossless = put("remixing/stems/7/vocals.flac")
    client.force_login(UserFactory())
    assert status(client, preview) == 404  # no subscriptions
    fan = UserFactory()
    entitle(fan)
    client.force_login(fan)
    assert status(client, preview) == 200
    assert status(client, lossless) == 404


def test_a_remix_file_is_its_fans_until_published(client, media):
    fan = UserFactory()
    remix = make_remix(owner=fan)
    name = put(f"remixing/remixes/{remix.pk}/remix-{remix.pk}.mp3")
    assert status(client, name) == 404
    client.force_login(UserFactory())
    assert status(client, name) == 404
    client.force_login(fan)
    assert status(client, name) == 200
    Remix.objects.filter(pk=remix.pk).update(status=Remix.Status.PUBLISHED, published_at=now())
    client.logout()
    assert status(client, name) == 200


def test_originals_play_publicly_and_other_paths_do_not_exist(client, media):
    original = put("catalog/recordings/original.flac")
    other = put("healthz/probe.txt")
    assert status(client, original) == 200
    assert status(client, other) == 404


def test_audio_players_can_seek_with_byte_ranges(client, media):
    name = default_storage.save("catalog/recordings/seek.flac", ContentFile(bytes(range(200))))
    whole = client.get(f"/media/{name}")
    assert whole["Accept-Ranges"] == "bytes"
    part = client.get(f"/media/{name}", HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 10-19/200"
    assert part.content == bytes(range(10, 20))
    tail = client.get(f"/media/{name}", HTTP_RANGE="bytes=-5")
    assert tail.content == bytes(range(195, 200))
    assert client.get(f"/media/{name}", HTTP_RANGE="bytes=500-").status_code == 416
