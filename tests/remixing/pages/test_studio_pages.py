"""Studio pages: who may open what, and what everyone else is told."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from catalog.services.consent import consent_revoke
from remixing.models import Remix
from remixing.services import remix_create
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db


@pytest.fixture
def entitled_fan(db):
    user = UserFactory(is_fan=True)
    entitle(user)
    return user


def login(client, user):
    client.force_login(user)


def config_of(response) -> dict:
    html = response.content.decode()
    start = html.index('id="studio-config" type="application/json">') + len(
        'id="studio-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_studio_start_needs_login(client, make_recording):
    recording, _ = make_recording()
    response = client.get(reverse("remixing:studio_start", args=[recording.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_studio_start_creates_then_reopens_the_draft(client, entitled_fan, make_recording):
    recording, _ = make_recording(official_stems=True)
    login(client, entitled_fan)
    url = reverse("remixing:studio_start", args=[recording.pk])
    first = client.get(url)
    remix = Remix.objects.get(fan=entitled_fan, recording=recording)
    assert first.status_code == 302
    assert first["Location"] == reverse("remixing:studio", args=[remix.pk])
    again = client.post(url)
    assert again["Location"] == first["Location"]
    assert Remix.objects.filter(fan=entitled_fan, recording=recording).count() == 1


def test_studio_start_without_entitlement_says_what_is_missing(client, fan, make_recording):
    recording, _ = make_recording()
    login(client, fan)
    response = client.get(reverse("remixing:studio_start", args=[recording.pk]))
    assert response.status_code == 403
    body = response.content.decode()
    assert "Premium" in body and "Remix add-on" in body and "/pricing/" in body
    assert not Remix.objects.exists()


def test_studio_start_for_a_track_without_consent_shows_the_reason(
    client, entitled_fan, make_recording
):
    recording, _ = make_recording(remixable=False)
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio_start", args=[recording.pk]))
    assert response.status_code == 409
    assert "cannot be remixed right now" in response.content.decode()
    assert "Browse remixable tracks" in response.content.decode()
    assert not Remix.objects.exists()


def test_studio_start_unknown_track_is_404(client, entitled_fan):
    login(client, entitled_fan)
    assert client.get(reverse("remixing:studio_start", args=[999_999])).status_code == 404


def test_studio_page_for_owner_has_config(client, entitled_fan, make_recording):
    recording, _ = make_recording(official_stems=True, terms={"key": False})
    remix = remix_create(fan=entitled_fan, recording=recording)
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 200
    config = config_of(response)
    assert config["remixId"] == remix.pk
    assert config["stemNames"] == ["bass", "drums", "other", "vocals"]
    assert {p["slug"] for p in config["presets"]} >= {"chill", "a_cappella", "instrumental"}
    assert set(config["forbidden"]) == {"key"}
    assert config["suggestion"]["slug"]
    body = response.content.decode()
    assert 'id="key" type="range"' in body and "disabled" in body.split('id="key"')[1][:200]
    assert "not allowed by the artist" in body


def test_someone_elses_draft_is_not_found_with_a_way_out(
    client, entitled_fan, other_fan, make_recording
):
    recording, _ = make_recording()
    remix = remix_create(fan=other_fan, recording=recording)
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 404
    assert "belongs to someone else" in response.content.decode()
    assert remix.title not in response.content.decode()


def test_studio_page_needs_login(client, make_recording, fan):
    recording, _ = make_recording()
    remix = remix_create(fan=fan, recording=recording)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 302


def test_studio_page_without_entitlement_is_refused(client, fan, make_recording):
    recording, _ = make_recording()
    remix = remix_create(fan=fan, recording=recording)
    login(client, fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 403
    assert "Premium" in response.content.decode()


def test_studio_page_after_revocation_explains(client, entitled_fan, make_recording):
    recording, artist = make_recording()
    remix = remix_create(fan=entitled_fan, recording=recording)
    consent_revoke(party=recording.artist_party, actor=artist, reason="Changed my mind")
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 409
    assert "cannot be remixed right now" in response.content.decode()


def test_paid_remix_studio_redirects_to_its_page(client, entitled_fan, make_recording):
    recording, _ = make_recording()
    remix = remix_create(fan=entitled_fan, recording=recording)
    Remix.objects.filter(pk=remix.pk).update(status="ready")
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response["Location"] == reverse("marketplace:my_remix", args=[remix.pk])


def test_remix_for_me_follows_history(client, entitled_fan, make_recording):
    for _ in range(2):
        past, _ = make_recording()
        remix_create(fan=entitled_fan, recording=past, preset="lofi")
    recording, _ = make_recording()
    remix = remix_create(fan=entitled_fan, recording=recording)
    login(client, entitled_fan)
    config = config_of(client.get(reverse("remixing:studio", args=[remix.pk])))
    assert config["suggestion"]["slug"] == "lofi"
    assert "Lo-fi" in config["suggestion"]["reason"]


def test_public_page_shows_only_published(client, fan, make_recording):
    recording, _ = make_recording()
    remix = remix_create(fan=fan, recording=recording, title="Night mix")
    url = reverse("remixing:public_remix", args=[remix.share_slug])
    assert client.get(url).status_code == 404
    Remix.objects.filter(pk=remix.pk).update(
        status="published", published_at="2026-01-01T00:00:00Z", description="Late night."
    )
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Night mix" in body and f"Remix of “{recording.title}”" in body
    assert "written by" in body and "Late night." in body and remix.share_slug in body
    # The old name keeps working.
    assert reverse("remixing:shared", args=[remix.share_slug]) == url
