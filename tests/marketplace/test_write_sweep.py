"""Hostile bodies to every write endpoint, generated from the URL configuration
and the OpenAPI schema, so a new endpoint is swept without anyone listing it.

API: every POST, PUT, PATCH and DELETE operation in the schema gets, from a
role that may use it and with a real CSRF token: JSON nested 10,000 deep,
NaN / Infinity / -Infinity, a body over the size limit, top levels that are
not objects, strings with NUL and lone surrogates, and huge integers (bodies
shaped after the operation's schema, so they reach its validation). Pages:
every route outside the API that does not answer POST with 405 gets the same
JSON bodies (a page takes only a form: 415), an oversize form (413) and forms
with NUL (400), and then well-formed forms of huge, negative, overlong and
odd values, which get the form's own answer and never a 500. A route that
takes no POST answers 405, which counts as a refusal: nothing to list.

Every refusal is a 4xx (the one error shape under /api/, a plain page
elsewhere), never a 500, and no row of any app table appears or disappears.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client

from remixing.models import Remix
from tests.marketplace.test_api_fuzz import _openapi
from tests.marketplace.test_route_role_matrix import (
    LOGIN,
    MATRIX,
    ROLES,
    _url,
    _user_of,
    all_routes,
    shared_world,  # noqa: F401
    world,  # noqa: F401
)

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
APP_LABELS = ("accounts", "catalog", "marketplace", "remixing", "royalties")
CSRF = "sweepcsrftoken0123456789abcdefAB"  # 32 characters, as Django's own

# Who sends each API operation's bodies: by default the premium fan who owns
# every remix, order and stem set the paths name.
API_ROLES = {
    "POST /api/v1/consent/": "artist_owner",
}
# Operations the sweep leaves alone, each with its reason. None today.
API_EXCLUDED: dict[str, str] = {}
# Page routes the sweep leaves alone, each with its reason.
PAGE_EXCLUDED = {
    # Reached by Stripe, not a browser: the body is verified against its
    # signature before anything reads it (tests/marketplace/billing/test_webhook_endpoint.py).
    "stripe/webhook": "signed by Stripe",
    # Files: GET only, answered by the owner's rights check (test_media_paths.py).
    "^media/(?P<path>.*)$": "media files are never posted",
}


def _operations() -> list[tuple[str, str, dict]]:
    spec = _openapi()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in WRITE_METHODS:
                found.append((method.upper(), path, operation))
    return found


OPERATIONS = {f"{method} {path}": (method, path, op) for method, path, op in _operations()}
SPEC = _openapi()


def _api_routes_in_urlconf() -> set[str]:
    """Every API route the resolver knows, in the schema's path syntax."""
    routes = set()
    for route in all_routes():
        if route.startswith("api/v1/"):
            path = "/" + route
            for converter in ("int", "str", "slug"):
                path = path.replace(f"<{converter}:", "{")
            routes.add(path.replace(">", "}"))
    return routes


def test_every_api_route_is_in_the_schema_and_every_write_operation_is_swept():
    assert _api_routes_in_urlconf() <= set(SPEC["paths"])
    assert set(API_EXCLUDED) <= set(OPERATIONS)
    assert set(API_ROLES) <= set(OPERATIONS)
    assert set(PAGE_EXCLUDED) <= set(all_routes())


# --- bodies shaped after the schema -------------------------------------------


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SPEC["components"]["schemas"][name]
    if "allOf" in schema:
        merged: dict = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_resolve(part).get("properties", {}))
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return _resolve(schema[key][0])
    return schema


def _example(schema: dict, depth: int = 0):
    schema = _resolve(schema)
    if schema.get("enum"):
        return next(value for value in schema["enum"] if value is not None)
    kind = schema.get("type", "object")
    if kind == "object" and depth < 6:
        props = schema.get("properties", {})
        return {name: _example(sub, depth + 1) for name, sub in props.items()}
    if kind == "array" and depth < 6:
        return [_example(schema.get("items", {}), depth + 1)]
    return {"string": "sweep", "integer": 1, "number": 1.0, "boolean": True}.get(kind, {})


def _body_schema(operation: dict) -> dict:
    content = operation.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema", {"type": "object"})


def _leaves(value, change):
    """The same shape, every scalar replaced by change(scalar)."""
    if isinstance(value, dict):
        return {key: _leaves(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_leaves(item, change) for item in value]
    return change(value)


def _numbers(value, to):
    return _leaves(value, lambda v: to if isinstance(v, int | float) and v is not True else v)


def _strings(value, to):
    return _leaves(value, lambda v: to if isinstance(v, str) else v)


def _dumps(value) -> str:
    return json.dumps(value, allow_nan=True)


def _api_bodies(operation: dict) -> list[tuple[str, str]]:
    """(what, JSON text) pairs: each must be refused."""
    example = _example(_body_schema(operation))
    shaped = example if isinstance(example, dict) and example else {"value": 1}
    over = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    bodies = [
        ("array 10,000 deep", "[" * 10_000 + "]" * 10_000),
        ("object 10,000 deep", '{"a":' * 10_000 + "1" + "}" * 10_000),
        ("over the size limit", json.dumps({"value": "x" * over})),
        ("top-level array", json.dumps([shaped])),
        ("top-level string", '"sweep"'),
        ("top-level number", "1"),
        ("top-level null", "null"),
        ("huge integer literal", '{"value": 1' + "0" * 5_000 + "}"),
    ]
    for constant in ("NaN", "Infinity", "-Infinity"):
        bodies.append((f"top-level {constant}", constant))
        bodies.append((f"{constant} in every field", _dumps(_leaves(shaped, lambda _v: math.nan))))
        bodies[-1] = (bodies[-1][0], bodies[-1][1].replace("NaN", constant))
        bodies.append((f"{constant} in every number", _dumps(_numbers(shaped, math.inf))))
        bodies[-1] = (bodies[-1][0], bodies[-1][1].replace("Infinity", constant.lstrip("-")))
    for text, what in (("a\x00b", "NUL"), ("\ud800", "lone surrogate"), ("\udfff x", "low")):
        bodies.append((f"{what} in every string", json.dumps(_strings(shaped, text))))
        bodies.append((f"{what} in a key", json.dumps({**shaped, text: "sweep"})))
    huge = 10**30
    bodies.append(("huge integers", json.dumps(_numbers(shaped, huge))))
    bodies.append(("huge negative integers", json.dumps(_numbers(shaped, -huge))))
    bodies.append(("huge integers everywhere", json.dumps(_leaves(shaped, lambda _v: huge))))
    plain = json.dumps(shaped)
    return [(what, text) for what, text in bodies if text != plain]  # nothing to mutate


# --- helpers ------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    counts = {}
    for label in APP_LABELS:
        for model in apps.get_app_config(label).get_models():
            counts[model._meta.label] = model._default_manager.count()
    return counts


def csrf_client(role: str, clients: dict[str, Client]) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if role != "anonymous":
        client.force_login(_user_of(clients[role]))
    client.cookies["csrftoken"] = CSRF
    return client


def _draft_of(remix_id: int) -> int:
    """A draft of the same fan, recording and stem set as the published remix."""
    published = Remix.objects.get(pk=remix_id)
    draft, _ = Remix.objects.get_or_create(
        fan=published.fan,
        recording=published.recording,
        status=Remix.Status.DRAFT,
        defaults={"title": "Sweep Draft", "recipe": {"version": 1}, "stem_set": published.stem_set},
    )
    return draft.pk


def _schema_path_to_url(path: str, things: dict) -> str:
    route = path.lstrip("/")
    for name in ("remix_id", "share_slug", "ref", "party_id", "recording_id", "slug"):
        route = route.replace("{" + name + "}", f"<str:{name}>")
    return _url(route, things)


def _error_shape(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


# --- the API sweep ----------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(set(OPERATIONS) - set(API_EXCLUDED)))
def test_every_api_write_refuses_hostile_json(operation, world):  # noqa: F811
    things, clients = world
    method, path, spec = OPERATIONS[operation]
    client = csrf_client(API_ROLES.get(operation, "premium_owner"), clients)
    # The owner's published remix, and a draft whose bodies reach validation.
    urls = {_schema_path_to_url(path, things)}
    urls.add(_schema_path_to_url(path, {**things, "remix_id": _draft_of(things["remix_id"])}))
    before = row_counts()
    wrong = []
    for url in sorted(urls):
        for what, text in _api_bodies(spec):
            response = client.generic(
                method,
                url,
                text.encode("utf-8", "surrogatepass"),
                content_type="application/json",
                HTTP_X_CSRFTOKEN=CSRF,
            )
            if not 400 <= response.status_code < 500:
                wrong.append(f"{url} {what}: {response.status_code} {response.content[:160]!r}")
                continue
            _error_shape(response)
    assert wrong == [], operation
    assert row_counts() == before, operation


# --- the page sweep -----------------------------------------------------------


def _page_routes() -> list[str]:
    return [r for r in all_routes() if not r.startswith("api/") and r not in PAGE_EXCLUDED]


def _page_role(route: str) -> str:
    """A role that gets past the route's door (else the admin)."""
    if route not in MATRIX:  # a new route (the matrix's own test names it): the admin
        return "admin"
    expected = MATRIX[route][1]
    for role in ROLES[1:]:
        if expected[role] not in (403, 404, LOGIN):
            return role
    return "admin"


def _form_fields(client: Client, url: str) -> list[str]:
    """The names of the fields of the page's own forms (if it has a page)."""
    page = client.get(url)
    if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
        return []
    names = re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', page.content.decode())
    return sorted(set(names) - {"csrfmiddlewaretoken"})


def _page_bodies(fields: list[str]) -> list[tuple[str, str, object]]:
    """(what, content type, body) triples: each must be refused with a 4xx
    page, the body unread."""
    names = fields or ["value"]
    over = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    huge = str(10**30)
    form = "application/x-www-form-urlencoded"
    return [
        ("JSON 10,000 deep", "application/json", "[" * 10_000 + "]" * 10_000),
        ("JSON NaN", "application/json", '{"value": NaN}'),
        ("JSON Infinity", "application/json", '{"value": Infinity}'),
        ("JSON top-level array", "application/json", "[]"),
        ("JSON huge integer", "application/json", '{"value": ' + huge + "}"),
        ("form over the size limit", form, "value=" + "x" * over),
        ("NUL in every field", form, "&".join(f"{n}=a%00b" for n in names)),
        ("NUL in a field's name", form, "value%00=1"),
    ]


def _page_values(fields: list[str]) -> list[tuple[str, str]]:
    """(what, form) pairs of well-formed forms with hostile values: the form's
    own answer (its page with errors, a redirect with a message, a 4xx), never
    a 500. A value the form does not use may leave a valid action valid (an
    empty POST buys a remix), so these are not held to "nothing written"."""
    names = fields or ["value"]
    values = {
        "huge integer": str(10**30),
        "huge negative integer": str(-(10**30)),
        "lone surrogate (as UTF-8 bytes)": "%ED%A0%80",
        "NaN": "NaN",
        "Infinity": "-Infinity",
        "overlong": "9" * 5_000,
    }
    return [(what, "&".join(f"{n}={v}" for n in names)) for what, v in values.items()]


def chunks(items: list[str], size: int) -> list[tuple[str, ...]]:
    """Routes in groups, each group one test on one world: building the world
    costs more than asking a route, and the sweep runs on every commit."""
    return [tuple(items[start : start + size]) for start in range(0, len(items), size)]


def chunk_id(group: tuple[str, ...]) -> str:
    return f"{group[0]}(+{len(group) - 1})"


def _page_problems(route: str, things: dict, clients: dict[str, Client]) -> list[str]:
    client = csrf_client(_page_role(route), clients)
    url = _url(route, things)
    fields = _form_fields(client, url)
    before = row_counts()
    wrong = []
    for what, content_type, body in _page_bodies(fields):
        response = client.generic(
            "POST", url, body, content_type=content_type, HTTP_X_CSRFTOKEN=CSRF
        )
        if not 400 <= response.status_code < 500:
            wrong.append(f"{what}: {response.status_code} {response.get('Location', '')}")
        elif "html" not in response.get("Content-Type", ""):
            wrong.append(f"{what}: not a page ({response.get('Content-Type')})")
    if row_counts() != before:
        wrong.append("a refused post changed the rows of the app tables")
    for what, form in _page_values(fields):
        response = client.generic(
            "POST",
            url,
            form,
            content_type="application/x-www-form-urlencoded",
            HTTP_X_CSRFTOKEN=CSRF,
        )
        if response.status_code >= 500:
            wrong.append(f"{what} (fields {fields}): {response.status_code}")
    return [f"{route} {problem}" for problem in wrong]


@pytest.mark.parametrize("routes", chunks(_page_routes(), 8), ids=chunk_id)
def test_every_form_page_refuses_hostile_posts(routes, world):  # noqa: F811
    things, clients = world
    wrong = [problem for route in routes for problem in _page_problems(route, things, clients)]
    assert wrong == []
