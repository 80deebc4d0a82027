"""Property test of the whole API from its own OpenAPI schema (drf-spectacular):
schemathesis sends valid and invalid bodies, query strings and ids to every
operation through the WSGI app, as a signed-in, entitled fan who owns real
objects. No answer may be a 5xx, and every error is in the one error shape.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings

from remixing.models import StemSet
from tests.catalog.factories import remixable_recording
from tests.marketplace.billing.factories import OrderFactory, entitle

APP = WSGIHandler()


@pytest.fixture
def keep_connection():
    """As Django's test client does: a request's end must not close the test
    database connection (it holds the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _openapi() -> dict:
    """The schema /api/schema/ serves, made in-process."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


schema = schemathesis.openapi.from_dict(_openapi())


@pytest.fixture
def owner_world(db, keep_connection):
    """A fan with a remix (and its stem set and order) and an artist's party."""
    recording, party, _ = remixable_recording("Fuzz Artist")
    order = OrderFactory()
    fan = order.fan
    entitle(fan)
    remix = order.remix
    remix.stem_set = StemSet.objects.create(
        audio_sha256="f" * 64, model_name="demucs_unittest", recording=remix.recording
    )
    remix.save(update_fields=["stem_set"])
    client = Client()
    client.force_login(fan)
    token = get_random_string(32)
    auth = {
        "headers": {"X-CSRFToken": token},
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
    }
    ids = {
        "remix_id": remix.pk,
        "recording_id": recording.pk,
        "party_id": party.pk,
        "stem_set_id": remix.stem_set_id,
        "share_slug": remix.share_slug,
    }
    return auth, ids


def _check(response, case) -> None:
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, (where, response.status_code, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, (where, body)
        assert set(body["error"]) == {"code", "message", "fields"}, (where, body)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_answers_every_input_without_a_5xx(case, owner_world):
    auth, ids = owner_world
    _check(case.call(app=APP, **auth), case)
    # The same input against objects that exist, so bodies reach validation.
    known = {name: ids[name] for name in (case.path_parameters or {}) if name in ids}
    if known:
        case.path_parameters = {**case.path_parameters, **known}
        _check(case.call(app=APP, **auth), case)
