"""The remixing API: owner-only drafts, recipe errors naming fields, status JSON."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from catalog.services.consent import consent_revoke
from remixing.models import Remix
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _entitled(fan):
    # The remix API, like the studio, is for fans with Premium + Remix add-on.
    entitle(fan)


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def draft(make_recording, fan, client_for, django_capture_on_commit_callbacks):
    recording, _ = make_recording(terms={"key": False})
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(fan).post(
            "/api/v1/remixes/", {"recording_id": recording.pk, "preset": "chill"}, format="json"
        )
    assert response.status_code == 201, response.json()
    return Remix.objects.get(pk=response.json()["id"]), recording


def test_create_draft_and_read_status(draft, fan, client_for):
    remix, recording = draft
    client = client_for(fan)
    body = client.get(f"/api/v1/remixes/{remix.pk}/").json()
    assert body["status"] == "draft" and body["recording_id"] == recording.pk
    assert body["recipe"]["version"] == 1 and body["preset"] == "chill"
    assert body["consent_event_ids"] and body["master_split_version_id"]
    status = client.get(f"/api/v1/remixes/{remix.pk}/status/").json()
    assert set(status) >= {"status", "progress", "stage", "error", "stem_set"}
    assert status["stem_set"]["status"] == "pending"
    assert status["stem_set"]["model"] == "demucs_unittest"
    stems = client.get(f"/api/v1/remixes/{remix.pk}/stems/").json()
    assert stems["stems"] == [] and stems["stem_set"]["id"] == remix.stem_set_id
    stem_set = client.get(f"/api/v1/stem-sets/{remix.stem_set_id}/").json()
    assert stem_set["status"] == "pending"


def test_invalid_recipe_is_400_naming_fields(draft, fan, client_for):
    remix, _ = draft
    response = client_for(fan).put(
        f"/api/v1/remixes/{remix.pk}/recipe/",
        {"recipe": {"version": 1, "stems": {"vocals": {"gain_db": 99}, "kazoo": {}}}},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_recipe"
    assert "recipe.stems.vocals.gain_db" in error["fields"]
    assert "recipe.stems.kazoo" in error["fields"]


def test_forbidden_transformation_is_409_naming_field(draft, fan, client_for):
    # A well-formed recipe that the terms in force refuse: a conflict with the
    # track's state (409), not bad input (400).
    remix, _ = draft
    response = client_for(fan).put(
        f"/api/v1/remixes/{remix.pk}/recipe/",
        {"recipe": {"version": 1, "key_shift": 2}},
        format="json",
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "forbidden_transformation"
    assert list(error["fields"]) == ["recipe.key_shift"]


def test_recipe_update_and_version_conflict(draft, fan, client_for):
    remix, _ = draft
    client = client_for(fan)
    response = client.put(
        f"/api/v1/remixes/{remix.pk}/recipe/",
        {"recipe": {"version": 1, "tempo_ratio": 0.9}, "recipe_version": 1},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["recipe_version"] == 2
    stale = client.put(
        f"/api/v1/remixes/{remix.pk}/recipe/",
        {"recipe": {"version": 1}, "recipe_version": 1},
        format="json",
    )
    assert stale.status_code == 409


def test_others_get_404_and_anonymous_403(draft, other_fan, client_for):
    remix, _ = draft
    client = client_for(other_fan)
    for url in ("", "recipe/", "status/", "stems/"):
        assert client.get(f"/api/v1/remixes/{remix.pk}/{url}").status_code == 404
    assert (
        client.put(
            f"/api/v1/remixes/{remix.pk}/recipe/", {"recipe": {"version": 1}}, format="json"
        ).status_code
        == 404
    )
    assert APIClient().get(f"/api/v1/remixes/{remix.pk}/").status_code == 403


def test_create_for_non_remixable_track_is_409(make_recording, fan, client_for):
    recording, _ = make_recording(remixable=False)
    response = client_for(fan).post(
        "/api/v1/remixes/", {"recording_id": recording.pk}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_remixable"


def test_presets(make_recording, fan, client_for):
    recording, _ = make_recording(terms={"vocals_removed": False})
    client = client_for(fan)
    slugs = [p["slug"] for p in client.get("/api/v1/remix-presets/").json()["results"]]
    assert "chill" in slugs and "instrumental" in slugs
    body = client.get(f"/api/v1/recordings/{recording.pk}/presets/workout/recipe/").json()
    assert body["recipe"]["version"] == 1 and body["recipe"]["tempo_ratio"] > 1
    bad = client.get(f"/api/v1/recordings/{recording.pk}/presets/nope/recipe/")
    assert bad.status_code == 400 and "preset" in bad.json()["error"]["fields"]
    # A preset the terms forbid is refused when used, naming the field.
    response = client.post(
        "/api/v1/remixes/", {"recording_id": recording.pk, "preset": "instrumental"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "forbidden_transformation"
    assert "recipe.stems.vocals" in response.json()["error"]["fields"]


def test_fan_without_subscriptions_cannot_create_remixes(make_recording, other_fan, client_for):
    recording, _ = make_recording()
    response = client_for(other_fan).post(
        "/api/v1/remixes/", {"recording_id": recording.pk}, format="json"
    )
    assert response.status_code == 403
    body = response.json()["error"]
    assert body["code"] == "premium_required"
    assert "Premium" in body["message"]
    assert not Remix.objects.filter(fan=other_fan).exists()


def test_a_closed_track_refuses_every_remixing_write_alike(draft, fan, client_for):
    """The terms in force closing the track is one refusal: the same 409, code,
    message and fields from recipe save, Describe, stems and takes."""
    remix, recording = draft
    consent_revoke(party=recording.artist_party, actor=recording.artist_party.user)
    client = client_for(fan)
    base = f"/api/v1/remixes/{remix.pk}/"
    take = SimpleUploadedFile("take.webm", b"never decoded: refused first", "audio/webm")
    answers = {
        "recipe": client.put(f"{base}recipe/", {"recipe": {"version": 1}}, format="json"),
        "describe": client.post(f"{base}describe/", {"text": "slower"}, format="json"),
        "stems": client.post(f"{base}stems/"),
        "takes": client.post(f"{base}takes/", {"lead_s": "1", "audio": take}, format="multipart"),
    }
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 409)
    bodies = [a.json() for a in answers.values()]
    assert bodies[0]["error"]["code"] == "not_remixable"
    assert bodies[0]["error"]["fields"]["recording"]
    assert all(body == bodies[0] for body in bodies), bodies


def test_the_schema_documents_the_terms_refusal(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, method in (
        ("/api/v1/remixes/", "post"),
        ("/api/v1/remixes/{remix_id}/recipe/", "put"),
        ("/api/v1/remixes/{remix_id}/recipe/", "patch"),
        ("/api/v1/remixes/{remix_id}/describe/", "post"),
        ("/api/v1/remixes/{remix_id}/stems/", "post"),
        ("/api/v1/remixes/{remix_id}/takes/", "post"),
        ("/api/v1/remixes/{remix_id}/publish/", "post"),
    ):
        conflict = paths[path][method]["responses"]["409"]
        assert "terms in force" in conflict["description"], (path, method)
        assert conflict["content"]["application/json"]["schema"] == error, (path, method)
