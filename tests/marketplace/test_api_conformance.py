"""The API keeps to its own OpenAPI schema, for every role.

schemathesis generates valid and invalid requests for every operation from the
schema /api/schema/ serves, and sends them as each kind of caller: an
anonymous visitor, a fan without a plan, the premium fan who owns the remix
and stem set in the paths, another premium fan, the artist who owns the party,
and a staff auditor. Every answer must be below 500, carry a status code the
schema documents for that operation, with the documented content type and a
body that matches the documented schema.

Short by default (CI): few examples per operation, and each example asked by
two roles in turn (every role several times per operation). Long:
``API_FUZZ_EXAMPLES=200 API_FUZZ_ALL_ROLES=1`` asks every example as every role.
"""

from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.api_schema import error_responses_for
from remixing.models import StemSet
from tests.catalog.factories import remixable_recording
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import OrderFactory, entitle
from tests.marketplace.test_api_fuzz import APP, _openapi, keep_connection  # noqa: F401

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))
ALL_ROLES = bool(os.environ.get("API_FUZZ_ALL_ROLES"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ("anonymous", "fan_free", "premium_owner", "other_fan", "artist_owner", "auditor")
_turns = itertools.cycle(ROLES)


def _roles_for_this_example() -> tuple[str, ...]:
    return ROLES if ALL_ROLES else (next(_turns), next(_turns))


schema = schemathesis.openapi.from_dict(_openapi())


def _session(user) -> dict:
    if user is None:
        return {}
    client = Client()
    client.force_login(user)
    token = get_random_string(32)
    return {
        "headers": {"X-CSRFToken": token},
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
    }


@pytest.fixture
def callers(db, keep_connection):  # noqa: F811
    recording, party, artist = remixable_recording("Conformance Artist")
    order = OrderFactory()
    owner = order.fan
    entitle(owner)
    remix = order.remix
    remix.stem_set = StemSet.objects.create(
        audio_sha256="c" * 64, model_name="demucs_unittest", recording=remix.recording
    )
    remix.save(update_fields=["stem_set"])
    other = UserFactory()
    entitle(other)
    users = {
        "anonymous": None,
        "fan_free": UserFactory(),
        "premium_owner": owner,
        "other_fan": other,
        "artist_owner": artist,
        "auditor": UserFactory(is_auditor=True, is_staff=True, is_fan=False),
    }
    ids = {
        "remix_id": remix.pk,
        "recording_id": recording.pk,
        "party_id": party.pk,
        "stem_set_id": remix.stem_set_id,
        "share_slug": remix.share_slug,
    }
    return {role: _session(user) for role, user in users.items()}, ids


def _call_and_validate(case, auth: dict) -> None:
    response = case.call(app=APP, **auth)
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_every_role_gets_answers_the_schema_documents(case, callers):
    sessions, ids = callers
    known = {name: ids[name] for name in (case.path_parameters or {}) if name in ids}
    roles = _roles_for_this_example()
    for role in roles:
        _call_and_validate(case, sessions[role])
    if known:  # the same inputs against objects that exist, so they reach validation
        case.path_parameters = {**case.path_parameters, **known}
        for role in roles:
            _call_and_validate(case, sessions[role])


def test_every_operation_documents_its_refusals():
    """The schema itself: each operation lists the refusals of its kind, in
    the one error shape."""
    document = _openapi()
    assert "Error" in document["components"]["schemas"]
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = error_responses_for(method=method, has_path_parameters="{" in path)
            for code in expected:
                answer = operation["responses"].get(code)
                if answer is None:
                    missing.append(f"{method.upper()} {path} {code}")
    assert missing == []


def test_a_refusal_matches_the_documented_error_shape(client, db):
    response = client.get("/api/v1/remixes/123456/")
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
