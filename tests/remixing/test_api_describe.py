"""POST /api/v1/remixes/<id>/describe/: a sentence in, the understood changes out."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from remixing.models import Remix
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def draft(make_recording, fan, django_capture_on_commit_callbacks):
    entitle(fan)
    recording, _ = make_recording(terms={"key": False})
    with django_capture_on_commit_callbacks(execute=False):
        response = _client(fan).post(
            "/api/v1/remixes/", {"recording_id": recording.pk}, format="json"
        )
    assert response.status_code == 201, response.json()
    return Remix.objects.get(pk=response.json()["id"])


def test_describe_returns_changes_and_what_it_could_not_honour(draft, fan):
    url = f"/api/v1/remixes/{draft.pk}/describe/"
    response = _client(fan).post(
        url,
        {"text": "no vocals, 10% faster, up two semitones, remove the credits, zorp"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    # The test track is 120 BPM with drums, bass, other and vocals stems (Demucs' sources).
    assert [(c["path"], c["value"], c["words"]) for c in body["changes"]] == [
        ("stems.vocals.mute", True, "no vocals"),
        ("tempo_ratio", 1.1, "10% faster"),
    ]
    assert body["changes"][1]["label"] == "Tempo 110% of the original (132 BPM)"
    assert [(u["words"], u["reason"]) for u in body["not_honoured"]] == [
        ("up two semitones", "forbidden"),  # the artist's terms forbid key changes
        ("remove the credits", "refused"),
        ("zorp", "unknown"),
    ]
    assert body["recipe"]["tempo_ratio"] == 1.1 and body["recipe"]["key_shift"] == 0
    # Nothing is saved until the studio applies the changes.
    draft.refresh_from_db()
    assert draft.recipe_version == 1
    assert draft.recipe.get("tempo_ratio", 1.0) == 1.0


def test_describe_builds_on_the_studios_unsaved_recipe(draft, fan):
    response = _client(fan).post(
        f"/api/v1/remixes/{draft.pk}/describe/",
        {"text": "10% faster", "recipe": {"version": 1, "tempo_ratio": 1.2}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["changes"][0]["value"] == 1.32


def test_bad_input_is_400_in_the_one_error_shape(draft, fan):
    client = _client(fan)
    url = f"/api/v1/remixes/{draft.pk}/describe/"
    empty = client.post(url, {"text": "  "}, format="json")
    assert empty.status_code == 400 and "text" in empty.json()["error"]["fields"]
    long = client.post(url, {"text": "x" * 501}, format="json")
    assert long.status_code == 400 and "text" in long.json()["error"]["fields"]
    bad_recipe = client.post(
        url, {"text": "slower", "recipe": {"version": 1, "stems": {"kazoo": {}}}}, format="json"
    )
    assert bad_recipe.status_code == 400
    assert bad_recipe.json()["error"]["code"] == "invalid_recipe"
    assert "recipe.stems.kazoo" in bad_recipe.json()["error"]["fields"]


def test_describe_is_for_the_owner_with_premium(draft, fan, other_fan):
    url = f"/api/v1/remixes/{draft.pk}/describe/"
    assert _client(other_fan).post(url, {"text": "slower"}, format="json").status_code == 404
    assert APIClient().post(url, {"text": "slower"}, format="json").status_code == 403
    # The owner without Premium + Remix add-on is refused like every studio endpoint.
    fan.subscriptions.all().delete()
    response = _client(fan).post(url, {"text": "slower"}, format="json")
    assert response.status_code == 403
