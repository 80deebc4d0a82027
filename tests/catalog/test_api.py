"""The catalog API: list/search, detail, consent read/change, history, permissions."""

import pytest
from rest_framework.test import APIClient

from catalog.models import ConsentEvent

from .factories import UserFactory, remixable_recording, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    song, party, owner = remixable_recording(
        "Nova", title="Blue Hour", genre="house", tempo_bpm=124
    )
    _, _, other_owner = remixable_recording("Kite", title="Red Sky", tempo_bpm=90)
    return {"song": song, "party": party, "owner": owner, "other_owner": other_owner}


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_list_filters_and_search(demo):
    client = client_for()
    body = client.get("/api/v1/tracks/").json()
    assert body["count"] == 2
    assert {t["title"] for t in body["results"]} == {"Blue Hour", "Red Sky"}
    assert client.get("/api/v1/tracks/?genre=house").json()["count"] == 1
    assert client.get("/api/v1/tracks/?tempo_min=100&tempo_max=130").json()["count"] == 1
    assert client.get("/api/v1/tracks/?artist=kite").json()["results"][0]["title"] == "Red Sky"
    assert client.get("/api/v1/tracks/?q=blue").json()["count"] == 1
    assert client.get("/api/v1/tracks/?key=A%20minor").json()["count"] == 2


def test_list_bad_filter_is_a_field_error(demo):
    response = client_for().get("/api/v1/tracks/?tempo_min=150&tempo_max=100")
    assert response.status_code == 400
    assert "tempo_max" in response.json()["error"]["fields"]


def test_revoked_track_leaves_the_remixable_list_at_once(demo):
    client = client_for(demo["owner"])
    response = client.post(
        "/api/v1/consent/", {"party": demo["party"].pk, "action": "revoke"}, format="json"
    )
    assert response.status_code == 201
    assert client.get("/api/v1/tracks/").json()["count"] == 1
    listed = client.get("/api/v1/tracks/?include_unremixable=true").json()["results"]
    blue = next(t for t in listed if t["title"] == "Blue Hour")
    assert blue["remixable"] is False
    assert blue["reasons"][0]["code"] == "consent_missing"


def test_detail_has_credits_splits_and_remixability(demo):
    body = client_for().get(f"/api/v1/tracks/{demo['song'].pk}/").json()
    assert body["credits"]["main_artists"] == ["Nova"]
    assert body["credits"]["credit_line"].startswith("Remix of “Blue Hour” by Nova")
    assert body["remixability"]["remixable"] is True
    assert body["remixability"]["terms"]["publication"] is True
    assert body["master_split"]["shares"][0]["bps"] == 10_000
    assert client_for().get("/api/v1/tracks/999999/").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("anon", 403), ("fan", 403), ("other", 403), ("owner", 200), ("staff", 200)]
)
def test_consent_read_permissions(demo, who, status):
    user = {
        "anon": None,
        "fan": UserFactory(),
        "other": demo["other_owner"],
        "owner": demo["owner"],
        "staff": staff_user(),
    }[who]
    for url in (
        f"/api/v1/parties/{demo['party'].pk}/consent/",
        f"/api/v1/parties/{demo['party'].pk}/consent/history/",
    ):
        response = client_for(user).get(url)
        assert response.status_code == status, url
        if status != 200:
            assert "error" in response.json()


def test_consent_read_shape(demo):
    body = client_for(demo["owner"]).get(f"/api/v1/parties/{demo['party'].pk}/consent/").json()
    assert body["catalog_wide"]["granted"] is True
    assert body["recordings"][0]["decided_by_catalog_wide"] is True
    history = (
        client_for(demo["owner"]).get(f"/api/v1/parties/{demo['party'].pk}/consent/history/").json()
    )
    assert history["results"][0]["kind"] == "grant" and len(history["results"][0]["hash"]) == 64


@pytest.mark.parametrize("who", ["anon", "fan", "other", "staff"])
def test_consent_change_by_non_owner_writes_nothing(demo, who):
    user = {
        "anon": None,
        "fan": UserFactory(),
        "other": demo["other_owner"],
        "staff": staff_user(),
    }[who]
    before = ConsentEvent.objects.count()
    response = client_for(user).post(
        "/api/v1/consent/", {"party": demo["party"].pk, "action": "revoke"}, format="json"
    )
    if who == "anon":
        assert response.status_code == 403
    else:
        assert response.status_code == 400
        assert "party" in response.json()["error"]["fields"]
    assert ConsentEvent.objects.count() == before


def test_consent_change_validation(demo):
    client = client_for(demo["owner"])
    bad_terms = client.post(
        "/api/v1/consent/",
        {"party": demo["party"].pk, "action": "terms_change", "terms": {"bogus": True}},
        format="json",
    )
    assert bad_terms.status_code == 400 and "terms" in bad_terms.json()["error"]["fields"]
    missing = client.post(
        "/api/v1/consent/", {"party": demo["party"].pk, "action": "terms_change"}, format="json"
    )
    assert missing.status_code == 400 and "terms" in missing.json()["error"]["fields"]
    bad_action = client.post(
        "/api/v1/consent/", {"party": demo["party"].pk, "action": "x"}, format="json"
    )
    assert "action" in bad_action.json()["error"]["fields"]
    foreign = client.post(
        "/api/v1/consent/",
        {"party": demo["party"].pk, "action": "revoke", "recording": demo["song"].pk + 1},
        format="json",
    )
    assert foreign.status_code == 400 and "recording" in foreign.json()["error"]["fields"]


def test_terms_change_per_recording(demo):
    client = client_for(demo["owner"])
    response = client.post(
        "/api/v1/consent/",
        {
            "party": demo["party"].pk,
            "recording": demo["song"].pk,
            "action": "terms_change",
            "terms": {"vocals_isolated": False},
            "reason": "no a cappella",
        },
        format="json",
    )
    assert response.status_code == 201
    detail = client.get(f"/api/v1/tracks/{demo['song'].pk}/").json()
    assert detail["remixability"]["terms"]["vocals_isolated"] is False


def test_schema_lists_catalog_endpoints():
    response = client_for().get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/tracks/", "/api/v1/consent/", "/api/v1/parties/{party_id}/consent/"):
        assert path in text
