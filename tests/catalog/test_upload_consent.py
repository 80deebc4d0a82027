"""The upload asks for consent: it shows whether the new track will be
remixable and why, and the artist decides for this track before saving
(issue 18, item 6). Also: the main artist preselected, writers added inline,
and an artist credited as their own song's writer."""

import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.identifiers import ipi_check_digits
from catalog.models import ConsentEvent, Party, Recording, WorkWriter
from catalog.selectors import consent_chain_verify, recording_remixability
from core.errors import DomainError

from .factories import artist_user, complete_splits

pytestmark = pytest.mark.django_db

URL = reverse("catalog:recording_upload")


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=2", str(path)], check=True
    )
    return path.read_bytes()


@pytest.fixture
def nova():
    """An artist who granted catalog-wide consent long before this upload."""
    user, party = artist_user("Nova Lane")
    services.consent_grant(
        party=party, actor=user, terms={"vocals_isolated": False}, reason="opt in"
    )
    return user, party


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, tone, party, **extra):
    data = {
        "audio": SimpleUploadedFile("tone.wav", tone),
        "title": "Night Drive",
        "main_artists": [party.pk],
        **extra,
    }
    return client.post(URL, data)


def test_page_shows_the_catalog_wide_consent_and_asks_for_a_choice(nova):
    user, party = nova
    page = _client(user).get(URL).content.decode()
    granted_on = party.consent_states.get(recording=None).updated_at
    assert f"catalog-wide consent from {granted_on:%-d %B %Y} covers it" in page
    assert "Not allowed: Isolate the vocals (a cappella)" in page
    assert "Allowed: Change the tempo" in page
    assert 'name="consent" value="keep"' in page and 'name="consent" value="opt_out"' in page
    # No default: the artist must choose knowingly.
    assert "checked" not in page.split('id="consent-heading"')[1]


def test_without_consent_the_page_says_so_and_offers_a_grant():
    user, _ = artist_user("Quiet One")
    page = _client(user).get(URL).content.decode()
    assert "You have not given remix consent" in page
    assert 'value="grant"' in page and 'value="opt_out"' not in page


def test_upload_without_a_consent_choice_is_refused_and_stores_nothing(nova, tone):
    user, party = nova
    response = _post(_client(user), tone, party)
    assert response.status_code == 400
    assert "id_consent_error" in response.content.decode()
    assert not Recording.objects.exists()


def test_opting_out_keeps_the_track_not_remixable_with_the_reason(nova, tone):
    user, party = nova
    response = _post(_client(user), tone, party, consent="opt_out")
    assert response.status_code == 302
    recording = Recording.objects.get(title="Night Drive")
    revoke = ConsentEvent.objects.get(recording=recording)
    assert revoke.kind == ConsentEvent.Kind.REVOKE and revoke.actor == user
    complete_splits(recording)
    rule = recording_remixability(recording=recording)
    assert not rule.remixable
    assert [r.code for r in rule.reasons] == ["consent_missing"]
    assert "revoked consent for this recording" in rule.why_not
    assert consent_chain_verify() is None


def test_keeping_the_catalog_wide_grant_makes_it_remixable_once_splits_are_in(nova, tone):
    user, party = nova
    assert _post(_client(user), tone, party, consent="keep").status_code == 302
    recording = Recording.objects.get(title="Night Drive")
    assert not ConsentEvent.objects.filter(recording=recording).exists()
    complete_splits(recording)
    assert recording_remixability(recording=recording).remixable


def test_granting_for_this_track_only(tone):
    user, party = artist_user("Quiet One")
    assert _post(_client(user), tone, party, consent="grant").status_code == 302
    recording = Recording.objects.get(title="Night Drive")
    complete_splits(recording)
    assert recording_remixability(recording=recording).remixable
    assert ConsentEvent.objects.get(recording=recording).kind == ConsentEvent.Kind.GRANT


def test_the_uploading_artist_is_preselected(nova):
    user, party = nova
    page = _client(user).get(URL).content.decode()
    assert f'<option value="{party.pk}" selected>Nova Lane</option>' in page


def test_a_new_writer_is_added_inline_with_a_checked_ipi(nova, tone):
    user, party = nova
    ipi = "123456789" + ipi_check_digits("123456789")
    response = _post(
        _client(user),
        tone,
        party,
        consent="keep",
        new_writer_1_name="June Okafor",
        new_writer_1_role="lyricist",
        new_writer_1_ipi=ipi,
    )
    assert response.status_code == 302
    writer = Party.objects.get(name="June Okafor")
    assert writer.kind == Party.Kind.SONGWRITER and writer.ipi == ipi and writer.user is None
    credit = WorkWriter.objects.get(party=writer)
    assert credit.role == "lyricist" and credit.work.recordings.get().title == "Night Drive"


def test_a_bad_ipi_is_a_field_error_and_nothing_is_stored(nova, tone):
    user, party = nova
    response = _post(
        _client(user),
        tone,
        party,
        consent="keep",
        new_writer_1_name="June Okafor",
        new_writer_1_ipi="12345678900",
    )
    page = response.content.decode()
    assert response.status_code == 400 and "id_new_writer_1_ipi_error" in page
    assert not Recording.objects.exists() and not Party.objects.filter(name="June Okafor").exists()


def test_an_artist_lists_themselves_as_a_writer(nova, tone):
    user, party = nova
    response = _post(
        _client(user), tone, party, consent="keep", i_wrote_it="on", my_writer_role="composer"
    )
    assert response.status_code == 302
    credit = WorkWriter.objects.get()
    assert credit.role == "composer"
    assert credit.party.kind == Party.Kind.SONGWRITER and credit.party.name == "Nova Lane"
    assert credit.party.user == user and credit.party.is_claimed


def test_a_label_sees_the_artists_consent_but_cannot_decide_it(nova, tone):
    _, party = nova
    label_user, _ = artist_user("Big Label", kind="label")
    client = _client(label_user)
    page = client.post(URL, {"title": "", "main_artists": [party.pk]}).content.decode()
    assert "Nova Lane's catalog-wide consent from" in page
    assert "Only Nova Lane can change this." in page and 'name="consent"' not in page
    with pytest.raises(DomainError) as error:
        services.recording_upload(
            uploader=label_user,
            audio=SimpleUploadedFile("x.wav", tone),
            title="X",
            main_artists=[party],
            consent="opt_out",
        )
    assert "consent" in error.value.fields
    assert _post(client, tone, party).status_code == 302


def test_the_split_that_completes_a_covered_track_says_it_is_now_remixable(nova, tone):
    user, party = nova
    client = _client(user)
    assert _post(client, tone, party, consent="keep", work_title="Night Drive").status_code == 302
    recording = Recording.objects.get(title="Night Drive")
    url = reverse("catalog:recording_splits", args=[recording.pk])
    management = {
        "shares-TOTAL_FORMS": "6",
        "shares-INITIAL_FORMS": "0",
        "shares-MIN_NUM_FORMS": "6",
        "shares-MAX_NUM_FORMS": "12",
    }
    rows = {"shares-0-party": party.pk, "shares-0-percent": "100"}
    first = client.post(url, {**management, **rows, "side": "master"}, follow=True)
    assert "now remixable" not in first.content.decode()
    writer = services.party_create(kind="songwriter", name="June Okafor")
    rows = {"shares-0-party": writer.pk, "shares-0-percent": "100"}
    last = client.post(url, {**management, **rows, "side": "publishing"}, follow=True)
    assert "“Night Drive” is now remixable by fans" in last.content.decode()
