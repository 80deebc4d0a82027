"""Admin: staff can browse everything; ledger rows cannot be changed there."""

import pytest
from django.test import Client

from catalog.models import ConsentEvent, SplitVersion
from catalog.selectors import recording_remixability_state_mismatches

from .factories import artist_user, remixable_recording, staff_user

pytestmark = pytest.mark.django_db


def test_admin_pages_load_and_ledger_is_read_only():
    remixable_recording()
    client = Client()
    client.force_login(staff_user())
    for model in (
        "party",
        "work",
        "recording",
        "splitversion",
        "consentevent",
        "consentstate",
        "takedown",
    ):
        assert client.get(f"/admin/catalog/{model}/").status_code == 200, model
    event = ConsentEvent.objects.first()
    version = SplitVersion.objects.first()
    assert client.get(f"/admin/catalog/consentevent/{event.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/catalog/consentevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/catalog/consentevent/add/").status_code == 403
    assert (
        client.post(
            f"/admin/catalog/splitversion/{version.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def _recording_form(recording, **changes) -> dict:
    data = {
        "title": recording.title,
        "isrc": recording.isrc or "",
        "work": recording.work_id or "",
        "genre": recording.genre,
        "mood": "[]",
        "tempo_bpm": recording.tempo_bpm or "",
        "key": recording.key,
        "duration_ms": recording.duration_ms or "",
        "stems-TOTAL_FORMS": "0",
        "stems-INITIAL_FORMS": "0",
    }
    links = list(recording.artists.all())
    data["artists-TOTAL_FORMS"] = str(len(links))
    data["artists-INITIAL_FORMS"] = str(len(links))
    for index, link in enumerate(links):
        data |= {
            f"artists-{index}-id": link.pk,
            f"artists-{index}-recording": recording.pk,
            f"artists-{index}-party": link.party_id,
            f"artists-{index}-role": link.role,
            f"artists-{index}-order": link.order,
        }
    return data | changes


def test_admin_edits_of_links_keep_the_stored_state(client):
    recording, _, _ = remixable_recording("Linked", title="Linked Song")
    client.force_login(staff_user())
    url = f"/admin/catalog/recording/{recording.pk}/change/"
    # Unlinking the work drops the publishing split: no longer remixable.
    response = client.post(url, _recording_form(recording, work=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    recording.refresh_from_db()
    assert not recording.is_remixable
    assert "publishing_split_incomplete" in recording.remixability_reasons
    assert recording_remixability_state_mismatches() == []
    # A second main artist who never consented, and the title renamed.
    _, newcomer = artist_user("Newcomer")
    data = _recording_form(recording, title="Renamed Song")
    data |= {
        "artists-TOTAL_FORMS": "2",
        "artists-1-recording": recording.pk,
        "artists-1-party": newcomer.pk,
        "artists-1-role": "main",
        "artists-1-order": "1",
    }
    assert client.post(url, data).status_code == 302
    recording.refresh_from_db()
    assert "consent_missing" in recording.remixability_reasons
    assert recording.search_text.startswith("renamed song") and "newcomer" in recording.search_text
    assert recording_remixability_state_mismatches() == []
