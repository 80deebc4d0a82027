"""Bad input to the remixing API: a clear 4xx in the one error shape, never a 500.

Also: plays are counted once per listener per window and rate-limited; a stem
set's status is for the people who may use it, nobody else.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from remixing.models import Remix, RemixNotice, RemixPlay
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def draft(make_recording, fan, client_for, django_capture_on_commit_callbacks):
    entitle(fan)
    recording, _ = make_recording()
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(fan).post(
            "/api/v1/remixes/", {"recording_id": recording.pk}, format="json"
        )
    assert response.status_code == 201, response.json()
    return Remix.objects.get(pk=response.json()["id"])


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [5_000, 100])
def test_deeply_nested_recipe_json_is_400(draft, fan, client_for, depth):
    body = '{"recipe": ' + _nested(depth) + "}"
    response = client_for(fan).generic(
        "PUT", f"/api/v1/remixes/{draft.pk}/recipe/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested" in _error(response)["message"]


def test_deeply_nested_recipe_in_a_form_body_is_400(draft, fan, client_for):
    # DRF's JSONField parses a form field's JSON itself, past the body parser.
    response = client_for(fan).put(
        f"/api/v1/remixes/{draft.pk}/recipe/", {"recipe": _nested(5_000)}, format="multipart"
    )
    assert response.status_code == 400
    assert "recipe" in _error(response)["fields"]


def test_json_body_over_the_size_limit_is_413_in_the_error_shape(draft, fan, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"recipe": {"version": 1, "pad": "x" * 20_000}})
    response = client_for(fan).generic(
        "PUT", f"/api/v1/remixes/{draft.pk}/recipe/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert _error(response)["code"] == "too_large"


def test_form_body_over_the_size_limit_is_413_in_the_error_shape(fan, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = client_for(fan).post(
        "/api/v1/remix-notices/", {"ids": "1", "pad": "x" * 5_000}, format="multipart"
    )
    assert response.status_code == 413
    assert _error(response)["code"] == "too_large"


@pytest.mark.parametrize("value", ["\u0000", "\ud800"])
def test_unstorable_characters_in_a_recipe_are_400(draft, fan, client_for, value):
    body = json.dumps({"recipe": {"version": 1, "note": f"a{value}b"}})
    response = client_for(fan).generic(
        "PUT", f"/api/v1/remixes/{draft.pk}/recipe/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    _error(response)


@pytest.mark.parametrize(
    "ids",
    ["abc", {"a": 1}, ["x", None], [None], [1.5], [-1], [0], "1" * 500, [True]],
)
def test_mark_notices_read_with_bad_ids_is_400(fan, client_for, ids):
    response = client_for(fan).post("/api/v1/remix-notices/", {"ids": ids}, format="json")
    assert response.status_code == 400, response.content
    assert "ids" in str(_error(response)["fields"])


def test_a_number_no_column_can_hold_is_refused_before_any_view(fan, client_for):
    # Past a signed 64-bit integer (and 1e999, which Python reads as infinity).
    for body in ('{"ids": [1180591620717411303424]}', '{"ids": [1e999]}'):
        response = client_for(fan).post(
            "/api/v1/remix-notices/", body, content_type="application/json"
        )
        assert response.status_code == 400, response.content
        assert "out of range" in _error(response)["message"]


def test_mark_notices_read_with_good_ids(draft, fan, client_for):
    mine = RemixNotice.objects.create(fan=fan, remix=draft, kind="cancelled", message="m")
    other = RemixNotice.objects.create(fan=fan, remix=draft, kind="cancelled", message="n")
    client = client_for(fan)
    assert client.post("/api/v1/remix-notices/", {"ids": [mine.pk]}, format="json").json() == {
        "marked_read": 1
    }
    assert client.post("/api/v1/remix-notices/", {}, format="json").json() == {"marked_read": 1}
    other.refresh_from_db()
    assert other.read_at is not None


def test_a_json_body_that_is_not_an_object_is_400(fan, client_for):
    response = client_for(fan).post("/api/v1/remix-notices/", [1, 2], format="json")
    assert response.status_code == 400
    _error(response)


# Plays -----------------------------------------------------------------------


@pytest.fixture
def published(draft):
    Remix.objects.filter(pk=draft.pk).update(
        status=Remix.Status.PUBLISHED, published_at=timezone.now()
    )
    draft.refresh_from_db()
    return draft


def _play(remix, *, ip: str, client: APIClient | None = None):
    return (client or APIClient()).post(
        f"/api/v1/remixes/shared/{remix.share_slug}/play/", REMOTE_ADDR=ip
    )


def _fresh_ip() -> str:
    # A listener of its own per test: the rate limit lives in the shared cache.
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def test_one_anonymous_listener_counts_once_per_window(published):
    ip = _fresh_ip()
    counts = {_play(published, ip=ip).json()["play_count"] for _ in range(5)}
    assert counts == {1}
    published.refresh_from_db()
    assert published.play_count == 1
    assert _play(published, ip=_fresh_ip()).json()["play_count"] == 2


def test_a_signed_in_listener_counts_once_wherever_they_are(published, other_fan):
    client = APIClient()
    client.force_login(other_fan)
    for _ in range(3):
        _play(published, ip=_fresh_ip(), client=client)
    published.refresh_from_db()
    assert published.play_count == 1


def test_a_new_window_counts_again(published):
    ip = _fresh_ip()
    _play(published, ip=ip)
    # The listener's earlier play now lies in a window that has passed.
    RemixPlay.objects.update(window_start=timezone.now() - timezone.timedelta(hours=1))
    assert _play(published, ip=ip).json()["play_count"] == 2


def test_one_hundred_play_posts_are_rate_limited(published):
    ip = _fresh_ip()
    responses = [_play(published, ip=ip) for _ in range(100)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited, "no 429 after 100 plays from one address"
    assert _error(limited[0])["code"] == "throttled"
    published.refresh_from_db()
    assert published.play_count == 1


def test_playing_an_unpublished_remix_is_404(draft):
    response = _play(draft, ip=_fresh_ip())
    assert response.status_code == 404
    _error(response)


# Stem sets -------------------------------------------------------------------


def test_stem_set_status_is_only_for_those_who_may_use_it(draft, fan, other_fan, client_for):
    url = f"/api/v1/stem-sets/{draft.stem_set_id}/"
    assert client_for(fan).get(url).status_code == 200
    response = client_for(other_fan).get(url)
    assert response.status_code == 404
    _error(response)
    assert APIClient().get(url).status_code == 403
    assert client_for(fan).get("/api/v1/stem-sets/999999999/").status_code == 404
