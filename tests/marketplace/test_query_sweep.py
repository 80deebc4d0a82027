"""Hostile values in every query parameter of every page and API read.

The parameters come from two places: the OpenAPI schema (each GET
operation's query parameters, plus DRF's `format`), and, for pages, the table
below, written by reading the views, their filter forms and selectors.
``test_every_query_parameter_a_view_reads_is_swept`` keeps the table whole:
it asks every GET route with Django's QueryDict recording each name a view
looks up, so a view that starts reading a new parameter fails until the
parameter is added here (and so swept).

Each parameter gets, one at a time, from a role that may open the page: NUL
(refused with a 400 before any view runs: PostgreSQL cannot even compare
text holding NUL), SQL-like strings, LIKE wildcards and escapes, over-long
strings, odd unicode, and negative, huge and non-finite numbers. Never a
500: a 4xx (the one error shape under /api/) or the page with the value
ignored. Run it on PostgreSQL too (DATABASE_URL): out-of-range integers and
NUL only fail there.
"""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import Client

from tests.marketplace.test_api_fuzz import _openapi
from tests.marketplace.test_route_role_matrix import (  # noqa: F401
    MATRIX,
    _url,
    _user_of,
    shared_world,
    world,
)
from tests.marketplace.test_write_sweep import _page_role, chunk_id, chunks

pytestmark = pytest.mark.django_db

AUDIT_REMIX_FILTERS = ("artist", "recording", "fan", "status", "from", "to", "party")
AUDIT_REMIX_FILTERS += ("party_id", "recording_id", "page", "format")
# Page routes and the query parameters their views read (see the module doc).
PAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "tracks/": ("q", "genre", "mood", "key", "tempo_min", "tempo_max", "show_all"),
    "remixes/": ("q", "sort", "artist", "mood", "preset", "track"),
    "search/": ("q",),
    "catalog/artist/claim/": ("q",),
    "catalog/artist/parties/<int:party_id>/consent/revoke/": ("recording",),
    "catalog/artist/parties/<int:party_id>/terms/": ("recording",),
    "catalog/recordings/<int:recording_id>/splits/": ("side",),
    "my/remixes/<int:remix_id>/": ("session_id",),
    "billing/checkout/success/": ("session_id",),
    "billing/checkout/status/": ("session_id",),
    "billing/orders/return/": ("session_id",),
    "billing/webhooks/": ("status",),
    "audit/remixes/": AUDIT_REMIX_FILTERS,
    "audit/anomalies/<slug:kind>/": ("format",),
    "audit/artists/": ("q",),
    "audit/artists/<int:party_id>/report/": ("from", "to", "print", "format"),
    "audit/log/": ("action", "actor", "from", "to", "page", "format"),
    "payouts/party/<int:party_id>/statement.csv": ("start", "end"),
    "^media/(?P<path>.*)$": ("head",),
    # drf-spectacular's own pages.
    "api/docs/": ("format", "lang", "script"),
    "api/schema/": ("format", "lang", "version"),
}
# allauth's pages read where to go next on every step.
PAGE_PARAMS.update(
    {
        route: (*PAGE_PARAMS.get(route, ()), "next")
        for route, (method, _) in MATRIX.items()
        if route.startswith("accounts/") and method == "get"
    }
)
# Read by every API view (DRF's format override).
API_EVERYWHERE = ("format",)
PROBE = "sweepprobe"

HOSTILE = [
    "' OR 1=1 --",
    ";DROP TABLE catalog_recording;--",
    "%",
    "_",
    "\\",
    "%%",
    "a%_\\b",
    "x" * 10_000,
    "\u202egnp.exe",
    "e\u0301\u200b",
    "🎧" * 200,
    "١٢٣",
    "\uff11\uff12\uff13",  # full-width digits
    "²",
    "",
    "-1",
    "-99999999999999999999",
    "99999999999999999999",
    "9" * 5_000,
    "1e309",
    "NaN",
    "1.5",
    "9999-12-31",
    "2026-02-30",
]
NUL = ["\x00", "a\x00b"]


def _api_params() -> dict[str, tuple[str, ...]]:
    """GET operations of the schema, in the URLconf's route syntax, and their
    query parameters."""
    spec = _openapi()
    found = {}
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        names = [p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        found[_route_of(path)] = (*names, *API_EVERYWHERE)
    return found


def _route_of(schema_path: str) -> str:
    """/api/v1/remixes/{remix_id}/ -> the MATRIX key api/v1/remixes/<int:remix_id>/."""
    for route in MATRIX:
        if route.startswith("api/"):
            shaped = "/" + route
            for converter in ("int", "str", "slug"):
                shaped = shaped.replace(f"<{converter}:", "{")
            if shaped.replace(">", "}") == schema_path:
                return route
    raise AssertionError(f"{schema_path} is in the schema but not in the route matrix")


API_PARAMS = _api_params()
ALL_PARAMS = {**PAGE_PARAMS, **API_PARAMS}
GET_ROUTES = sorted(route for route, (method, _) in MATRIX.items() if method == "get")


def _client(role: str, clients: dict[str, Client]) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(_user_of(clients[role]))
    return client


def _with_query(url: str, query: dict[str, str]) -> str:
    params = QueryDict(mutable=True)
    params.update(query)
    return f"{url}{'&' if '?' in url else '?'}{params.urlencode()}"


@pytest.fixture
def reads(monkeypatch):
    """Every name looked up in a QueryDict while the test runs."""
    names: set[str] = set()

    def recording(method):
        def look_up(self, key, *args, **kwargs):
            names.add(key)
            return method(self, key, *args, **kwargs)

        return look_up

    for method in ("get", "getlist", "__getitem__", "__contains__"):
        monkeypatch.setattr(QueryDict, method, recording(getattr(QueryDict, method)))
    return names


def test_every_query_parameter_a_view_reads_is_swept(world, reads):  # noqa: F811
    things, clients = world
    unswept = {}
    for route in GET_ROUTES:
        client = _client(_page_role(route), clients)
        reads.clear()
        # A non-empty query string: views bind their filter forms only then.
        client.get(_with_query(_url(route, things), {PROBE: "1"}))
        read = reads - {PROBE, "csrfmiddlewaretoken"} - set(ALL_PARAMS.get(route, ()))
        if read:
            unswept[route] = sorted(read)
    assert unswept == {}, "declare these in PAGE_PARAMS (or the schema) so they are swept"
    assert set(PAGE_PARAMS) <= set(GET_ROUTES)


def _query_problems(route: str, things: dict, clients: dict[str, Client]) -> list[str]:
    client = _client(_page_role(route), clients)
    url = _url(route, things)
    wrong = []
    for name in ALL_PARAMS[route]:
        for value in HOSTILE + NUL:
            response = client.get(_with_query(url, {name: value}))
            status = response.status_code
            label = f"{route} {name}={value[:30]!r}"
            if status >= 500:
                wrong.append(f"{label}: {status}")
            elif "\x00" in value and status != 400:
                wrong.append(f"{label}: NUL must be refused, got {status}")
            elif route.startswith("api/v1/") and status >= 400:
                body = response.json()
                if set(body) != {"error"} or set(body["error"]) != {"code", "message", "fields"}:
                    wrong.append(f"{label}: {status} outside the error shape: {body}")
    return wrong


@pytest.mark.parametrize("routes", chunks(sorted(ALL_PARAMS), 4), ids=chunk_id)
def test_hostile_query_values_never_give_a_500(routes, world):  # noqa: F811
    things, clients = world
    wrong = [problem for route in routes for problem in _query_problems(route, things, clients)]
    assert wrong == []
