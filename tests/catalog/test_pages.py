"""Catalog pages: permissions for fan, other artist, owner and staff; consent
toggling in the browser; bad input shown on the page with nothing stored."""

import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog.models import ConsentEvent, Party, Recording, SplitVersion
from catalog.selectors import recording_remixability

from .factories import PartyFactory, UserFactory, remixable_recording, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    song, party, owner = remixable_recording("Nova", title="Blue Hour")
    _, _, other = remixable_recording("Kite", title="Red Sky")
    return {"song": song, "party": party, "owner": owner, "other": other, "staff": staff_user()}


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _user(demo, who):
    return {
        "fan": UserFactory(),
        "other": demo["other"],
        "owner": demo["owner"],
        "staff": demo["staff"],
    }[who]


@pytest.mark.parametrize("who", ["fan", "other", "owner", "staff"])
def test_party_pages_are_for_the_owner(demo, who):
    client = browser(_user(demo, who))
    pid = demo["party"].pk
    owner_only = [
        reverse("catalog:consent_terms", args=[pid]),
        reverse("catalog:consent_revoke", args=[pid]),
    ]
    for url in owner_only:
        assert client.get(url).status_code == (200 if who == "owner" else 403), url
    history = client.get(reverse("catalog:consent_history", args=[pid]))
    assert history.status_code == (200 if who in ("owner", "staff") else 403)
    grant = client.post(reverse("catalog:consent_grant", args=[pid]))
    assert grant.status_code == (302 if who == "owner" else 403)


@pytest.mark.parametrize("who", ["fan", "other", "owner", "staff"])
def test_open_pages(demo, who):
    client = browser(_user(demo, who))
    assert client.get(reverse("catalog:artist_home")).status_code == 200
    assert client.get(reverse("catalog:party_claim")).status_code == 200
    assert (
        client.get(reverse("catalog:recording_detail", args=[demo["song"].pk])).status_code == 200
    )
    staff_page = client.get(reverse("catalog:staff_claims"))
    assert staff_page.status_code == (200 if who == "staff" else 403)
    splits = client.get(reverse("catalog:recording_splits", args=[demo["song"].pk]))
    assert splits.status_code == (200 if who in ("owner", "staff") else 403)
    upload = client.get(reverse("catalog:recording_upload"))
    assert upload.status_code == (200 if who in ("owner", "other") else 403)


def test_anonymous_is_sent_to_login(demo):
    response = browser().get(reverse("catalog:artist_home"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_artist_home_shows_status_and_reasons(demo):
    PartyFactory(name="Unclaimed")
    page = browser(demo["owner"]).get(reverse("catalog:artist_home")).content.decode()
    assert "Blue Hour" in page and "Remixable" in page and "Red Sky" not in page


def test_toggle_consent_in_the_browser_changes_remixability_at_once(demo):
    client = browser(demo["owner"])
    song, pid = demo["song"], demo["party"].pk
    url = reverse("catalog:consent_revoke", args=[pid]) + f"?recording={song.pk}"
    confirm = client.get(url).content.decode()
    assert "No new remixes" in confirm and "unpublished" in confirm
    assert recording_remixability(recording=song).remixable  # asking changes nothing
    client.post(url, {"recording": song.pk, "reason": "pause"})
    assert not recording_remixability(recording=song).remixable
    page = client.get(reverse("catalog:artist_home")).content.decode()
    assert "revoked consent for this recording" in page
    client.post(reverse("catalog:consent_grant", args=[pid]), {"recording": song.pk})
    assert recording_remixability(recording=song).remixable


def test_terms_editor_saves_a_terms_event(demo):
    client = browser(demo["owner"])
    url = reverse("catalog:consent_terms", args=[demo["party"].pk])
    data = {"stem_volume": "on", "tempo": "on", "publication": "on", "reason": "keep it simple"}
    assert client.post(url, data).status_code == 302
    event = ConsentEvent.objects.latest("seq")
    assert event.kind == "terms_change" and event.terms["key"] is False
    history = client.get(
        reverse("catalog:consent_history", args=[demo["party"].pk])
    ).content.decode()
    assert "keep it simple" in history


def test_split_editor_refuses_bad_sums_on_the_page(demo):
    client = browser(demo["owner"])
    url = reverse("catalog:recording_splits", args=[demo["song"].pk])
    label = PartyFactory(kind="label", name="Label")
    base = {
        "side": "master",
        "shares-TOTAL_FORMS": "6",
        "shares-INITIAL_FORMS": "0",
        "shares-MIN_NUM_FORMS": "6",
        "shares-MAX_NUM_FORMS": "12",
    }
    before = SplitVersion.objects.count()
    bad = dict(
        base,
        **{
            "shares-0-party": demo["party"].pk,
            "shares-0-percent": "60",
            "shares-1-party": label.pk,
            "shares-1-percent": "30",
        },
    )
    response = client.post(url, bad)
    assert (
        response.status_code == 200 and "must add up to exactly 100%" in response.content.decode()
    )
    negative = dict(bad, **{"shares-1-percent": "-40"})
    assert "more than 0" in client.post(url, negative).content.decode()
    duplicate = dict(bad, **{"shares-1-party": demo["party"].pk, "shares-1-percent": "40"})
    assert "more than once" in client.post(url, duplicate).content.decode()
    assert SplitVersion.objects.count() == before
    good = dict(bad, **{"shares-1-percent": "40"})
    assert client.post(url, good).status_code == 302
    assert SplitVersion.objects.count() == before + 1


def test_claim_and_staff_verify(demo):
    user = UserFactory()
    party = PartyFactory(name="Newcomer")
    client = browser(user)
    assert "Newcomer" in client.get(reverse("catalog:party_claim") + "?q=newc").content.decode()
    client.post(reverse("catalog:party_claim"), {"party": party.pk})
    party.refresh_from_db()
    assert party.user == user and not party.claim_verified
    assert client.post(reverse("catalog:consent_grant", args=[party.pk])).status_code == 403
    staff = browser(demo["staff"])
    # No reason, no decision: the staff audit log records why.
    staff.post(reverse("catalog:staff_claims"), {"party": party.pk, "decision": "approve"})
    party.refresh_from_db()
    assert not party.claim_verified
    staff.post(
        reverse("catalog:staff_claims"),
        {"party": party.pk, "decision": "approve", "reason": "Matched the label contract"},
    )
    party.refresh_from_db()
    assert party.claim_verified
    from catalog.models import StaffAuditEntry

    entry = StaffAuditEntry.objects.order_by("-pk").first()
    assert entry.reason == "Matched the label contract"
    # A second person cannot take a claimed party.
    browser(UserFactory()).post(reverse("catalog:party_claim"), {"party": party.pk})
    assert Party.objects.get(pk=party.pk).user == user


def test_staff_takedown_from_the_recording_page(demo):
    song = demo["song"]
    url = reverse("catalog:recording_takedown", args=[song.pk])
    assert browser(demo["owner"]).post(url, {"reason": "x"}).status_code == 403
    browser(demo["staff"]).post(url, {"reason": "copyright claim", "action": "place"})
    assert [r.code for r in recording_remixability(recording=song).reasons] == ["takedown"]
    browser(demo["staff"]).post(url, {"reason": "resolved", "action": "lift"})
    assert recording_remixability(recording=song).remixable


def test_upload_page_shows_field_errors_and_stores_nothing(demo, tmp_path):
    client = browser(demo["owner"])
    url = reverse("catalog:recording_upload")
    fake = SimpleUploadedFile("song.wav", b"RIFF not really a wav file" * 10)
    response = client.post(
        url,
        {
            "audio": fake,
            "title": "Fake",
            "main_artists": [demo["party"].pk],
            "isrc": "bad",
            "consent": "keep",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page and "id_isrc_error" in page
    assert not Recording.objects.filter(title="Fake").exists()
    audio = tmp_path / "tone.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=2", str(audio)], check=True
    )
    fake = SimpleUploadedFile("song.wav", b"RIFF not really a wav file" * 10)
    page = client.post(
        url, {"audio": fake, "title": "Fake", "main_artists": [demo["party"].pk], "consent": "keep"}
    ).content.decode()
    assert "id_audio_error" in page
    good = SimpleUploadedFile("tone.wav", audio.read_bytes())
    response = client.post(
        url, {"audio": good, "title": "Tone", "main_artists": [demo["party"].pk], "consent": "keep"}
    )
    assert response.status_code == 302
    assert Recording.objects.filter(title="Tone", created_by=demo["owner"]).exists()


def test_oversize_upload_shows_only_the_size_message(demo, settings):
    settings.UPLOAD_MAX_BYTES = 1_000
    big = SimpleUploadedFile("song.wav", b"RIFF" + b"\x00" * 5_000)
    response = browser(demo["owner"]).post(
        reverse("catalog:recording_upload"),
        {"title": "Big", "main_artists": [demo["party"].pk], "audio": big},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "larger than the upload limit" in page
    assert "This field is required" not in page
    assert not Recording.objects.filter(title="Big").exists()
