"""The remixing API: owner-only drafts, recipe errors naming fields, status JSON."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

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


def test_forbidden_transformation_is_400_naming_field(draft, fan, client_for):
    remix, _ = draft
    response = client_for(fan).put(
        f"/api/v1/remixes/{remix.pk}/recipe/",
        {"recipe": {"version": 1, "key_shift": 2}},
        format="json",
    )
    assert response.status_code == 400
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


def test_create_for_non_remixable_track_is_400(make_recording, fan, client_for):
    recording, _ = make_recording(remixable=False)
    response = client_for(fan).post(
        "/api/v1/remixes/", {"recording_id": recording.pk}, format="json"
    )
    assert response.status_code == 400
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
    assert response.status_code == 400
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
