"""Every URL that names an object by id, walked as someone who has no right to
it: another signed-in (and entitled) fan who owns an artist of their own.

Each such route must be listed below with what a stranger may see, so a new
object endpoint without an owner check fails here until someone decides.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from catalog.models import Party
from remixing.models import StemSet
from tests.catalog.factories import artist_user, remixable_recording
from tests.fixtures.accounts import UserFactory
from tests.fixtures.shared_world import clients_for, rolled_back, session_keys
from tests.marketplace.billing.factories import OrderFactory, SubscriptionFactory, entitle

pytestmark = pytest.mark.django_db

PUBLIC = "public"  # anyone may read it (a published catalog page)
SIGNED_IN = "signed_in"  # any signed-in user may read it (a preset for a track)
OWN = "own"  # acts on the caller's own things (opens the caller's own draft)
PRIVATE = "private"  # owner, staff or auditors only: a stranger gets 403 or 404
STAFF = "staff"  # staff or auditors only: a stranger gets 403
REDIRECT = "redirect"  # refused with a message and a redirect away from the object
LINK = "link"  # anyone with the link once published; until then 404 to everyone else
SHORT = "short"  # a short link: sends anyone to the remix's page, which decides (LINK)

# route -> (who may, HTTP method to try)
ROUTES: dict[str, tuple[str, str]] = {
    "api/v1/tracks/<int:recording_id>/": (PUBLIC, "get"),
    "api/v1/parties/<int:party_id>/consent/": (PRIVATE, "get"),
    "api/v1/parties/<int:party_id>/consent/history/": (PRIVATE, "get"),
    "api/v1/remixes/<int:remix_id>/": (PRIVATE, "get"),
    "api/v1/remixes/<int:remix_id>/describe/": (PRIVATE, "post"),
    "api/v1/remixes/<int:remix_id>/recipe/": (PRIVATE, "get"),
    "api/v1/remixes/<int:remix_id>/status/": (PRIVATE, "get"),
    "api/v1/remixes/<int:remix_id>/stems/": (PRIVATE, "get"),
    "api/v1/remixes/<int:remix_id>/publish/": (PRIVATE, "post"),
    "api/v1/remixes/<int:remix_id>/unpublish/": (PRIVATE, "post"),
    "api/v1/remixes/<int:remix_id>/takes/": (PRIVATE, "post"),
    "api/v1/remixes/<int:remix_id>/takes/<str:ref>/": (PRIVATE, "delete"),
    "api/v1/stem-sets/<int:stem_set_id>/": (PRIVATE, "get"),
    "api/v1/recordings/<int:recording_id>/presets/<slug:slug>/recipe/": (SIGNED_IN, "get"),
    "tracks/<int:recording_id>/": (PUBLIC, "get"),
    "my/remixes/<int:remix_id>/": (PRIVATE, "get"),
    "my/remixes/<int:remix_id>/export/": (PRIVATE, "post"),
    "my/remixes/<int:remix_id>/publish/": (PRIVATE, "post"),
    "my/remixes/<int:remix_id>/unpublish/": (PRIVATE, "post"),
    "my/remixes/<int:remix_id>/takes/<str:ref>/delete/": (PRIVATE, "post"),
    "my/remixes/<int:remix_id>/download/<str:fmt>/": (PRIVATE, "get"),
    "billing/subscriptions/<int:subscription_id>/cancel/": (REDIRECT, "post"),
    "billing/remixes/<int:remix_id>/buy/": (REDIRECT, "post"),
    "billing/orders/<int:order_id>/": (REDIRECT, "get"),
    "audit/remixes/<int:remix_id>/": (STAFF, "get"),
    "audit/artists/<int:party_id>/report/": (STAFF, "get"),
    "audit/orders/<int:order_id>/refund/": (STAFF, "post"),
    "audit/transfers/<int:transfer_id>/retry/": (STAFF, "post"),
    "audit/stem-sets/<int:stem_set_id>/retry/": (STAFF, "post"),
    "catalog/artist/parties/<int:party_id>/consent/grant/": (PRIVATE, "post"),
    "catalog/artist/parties/<int:party_id>/consent/revoke/": (PRIVATE, "get"),
    "catalog/artist/parties/<int:party_id>/terms/": (PRIVATE, "get"),
    "catalog/artist/parties/<int:party_id>/history/": (PRIVATE, "get"),
    "catalog/recordings/<int:recording_id>/": (PUBLIC, "get"),
    "catalog/recordings/<int:recording_id>/splits/": (PRIVATE, "get"),
    "catalog/recordings/<int:recording_id>/takedown/": (STAFF, "post"),
    "studio/tracks/<int:recording_id>/": (OWN, "get"),
    "studio/remixes/<int:remix_id>/": (PRIVATE, "get"),
    "payouts/party/<int:party_id>/": (PRIVATE, "get"),
    "payouts/party/<int:party_id>/statement.csv": (PRIVATE, "get"),
    "payouts/party/<int:party_id>/connect/": (PRIVATE, "post"),
    "payouts/party/<int:party_id>/connect/return/": (PRIVATE, "get"),
    "payouts/party/<int:party_id>/connect/refresh/": (PRIVATE, "get"),
    "api/v1/remixes/shared/<str:share_slug>/play/": (LINK, "post"),
    "studio/r/<str:share_slug>/": (LINK, "get"),
    "audit/records/<slug:key>/<str:pk>/": (STAFF, "get"),
    "artists/<int:party_id>/": (PUBLIC, "get"),
    "artists/<int:party_id>/follow/": (SIGNED_IN, "post"),
    "embed/remix/<str:share_slug>/": (LINK, "get"),
    "remixes/<str:share_slug>/like/": (LINK, "post"),
    "s/<str:share_slug>/": (SHORT, "get"),
    "studio/r/<str:share_slug>/fork/": (LINK, "post"),
    "studio/remixes/<int:remix_id>/forks/": (PRIVATE, "post"),
}


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # Django's admin: staff only, its own permission system
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def _names_an_object(route: str) -> bool:
    return "<int:" in route or ":pk>" in route or "share_slug>" in route


def object_routes() -> list[str]:
    """Every route that names one object: by id, primary key or share link."""
    return sorted({r for r in _walk(get_resolver().url_patterns) if _names_an_object(r)})


def test_every_object_route_is_classified():
    assert sorted(ROUTES) == object_routes()


def _things() -> dict[str, object]:
    recording, party, _ = remixable_recording("Owner Artist")
    order = OrderFactory(fan=UserFactory())
    owner = order.fan
    entitle(owner)
    remix = order.remix
    stem_set = StemSet.objects.create(
        audio_sha256="a" * 64, model_name="demucs_unittest", recording=remix.recording
    )
    remix.stem_set = stem_set
    remix.save(update_fields=["stem_set"])
    subscription = SubscriptionFactory(user=owner)
    return {
        "recording_id": recording.pk,
        "party_id": party.pk,
        "remix_id": remix.pk,
        "stem_set_id": stem_set.pk,
        "order_id": order.pk,
        "subscription_id": subscription.pk,
        "transfer_id": 1,
        "slug": "chill",
        "fmt": "mp3",
        "share_slug": remix.share_slug,
        "key": "order",
        "pk": order.pk,
        "ref": "0" * 32,
        "remix_title": remix.title,
        "party_name": party.name,
    }


def _stranger():
    user, own_party = artist_user("Stranger Artist")
    assert isinstance(own_party, Party)
    user.is_fan = True
    user.save(update_fields=["is_fan"])
    entitle(user)
    return user


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """Built once for the module's tests (tests/fixtures/shared_world.py)."""
    with rolled_back(django_db_blocker):
        yield _things(), session_keys({"stranger": _stranger()})


@pytest.fixture
def things(shared_world, db) -> dict[str, object]:
    return shared_world[0]


@pytest.fixture
def stranger(shared_world, db) -> Client:
    """Another signed-in, entitled fan who owns an artist of their own."""
    return clients_for(shared_world[1])["stranger"]


def _url(route: str, things: dict) -> str:
    url = route
    for name, value in things.items():
        for converter in ("int", "str", "slug"):
            url = url.replace(f"<{converter}:{name}>", str(value))
    return "/" + url


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_stranger_cannot_reach_anothers_object(things, stranger, route):
    who, method = ROUTES[route]
    url = _url(route, things)
    response = getattr(stranger, method)(url)
    status = response.status_code
    if who == PRIVATE:
        assert status in (403, 404), (url, status)
    elif who == LINK:
        assert status == 404, (url, status)  # the remix is not published
    elif who == SHORT:
        assert status == 302, (url, status)
        assert stranger.get(response["Location"]).status_code == 404
    elif who == STAFF:
        assert status == 403, (url, status)
    elif who == REDIRECT:
        assert status == 302, (url, status)
        assert response["Location"] == "/billing/", (url, response["Location"])
    else:
        assert status < 500, (url, status)
    if who not in (PUBLIC, SIGNED_IN) and status != 302:
        body = response.content.decode(errors="replace")
        assert things["remix_title"] not in body and things["party_name"] not in body
    if route.startswith("api/") and status >= 400:
        assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_missing_and_huge_ids_are_4xx(stranger, route):
    method = ROUTES[route][1]
    values = {"slug": "chill", "fmt": "mp3"}
    for missing in (987654321, 2**63 - 1, 2**64, 10**30):
        filled = {name: missing for name in ("recording_id", "party_id", "remix_id")}
        filled |= {"stem_set_id": missing, "order_id": missing, "subscription_id": missing}
        filled |= {"transfer_id": missing, "pk": missing, "key": "order", **values}
        filled["share_slug"] = f"no-such-{missing}"
        response = getattr(stranger, method)(_url(route, filled))
        assert response.status_code < 500, (route, missing, response.status_code)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_an_anonymous_visitor_is_sent_to_sign_in_or_refused(things, route):
    who, method = ROUTES[route]
    url = _url(route, things)
    response = getattr(Client(), method)(url)
    status = response.status_code
    if who == SHORT:
        assert status == 302 and Client().get(response["Location"]).status_code == 404
    elif who in (PUBLIC, LINK) and method == "get":
        assert status in (200, 404), (url, status)
    elif route.startswith("api/"):
        assert status in (403, 404), (url, status)
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    else:
        assert status in (302, 403), (url, status)
        if status == 302:
            assert response["Location"].startswith("/accounts/login/"), response["Location"]
