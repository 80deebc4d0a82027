"""Every route by every role, with the answer each must get, in one table.

The routes come from the URL configuration (the Django admin aside: it has its
own permission system), so a new route fails
``test_every_route_is_in_the_table`` until someone declares who may use it.
Nine people ask: an anonymous visitor, a fan without a plan, the premium fan
who owns the remix, order and subscription named in the paths, another premium
fan, the artist who owns the party and recording named in the paths, another
artist, the songwriter of the recording's work, a staff auditor and an admin.
Every path parameter names an object that belongs to the premium fan or the
artist, so for everyone else it is someone else's.

Each cell is the exact status code. Where a role is sent elsewhere (302), the
table says where to. Pages are asked with GET; routes that only change state
with an empty POST (which must never change anything for someone without the
right). State-changing routes also refuse a request without a CSRF token
(``test_state_changing_routes_need_a_csrf_token``).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from catalog.models import Party
from catalog.selectors import recording_remixability
from catalog.services import consent_grant
from marketplace.audit.anomalies import KINDS_BY_KEY
from marketplace.billing.services.plans import plan_catalog_sync
from marketplace.models import Subscription
from remixing.models import Remix, StemSet
from tests.catalog.factories import (
    PartyFactory,
    RecordingFactory,
    WorkFactory,
    artist_user,
    complete_splits,
    credit,
    staff_user,
)
from tests.fixtures.accounts import UserFactory
from tests.fixtures.shared_world import clients_for, rolled_back, session_keys
from tests.fixtures.stripe import sandbox_empty
from tests.marketplace.billing.factories import OrderFactory, entitle
from tests.remixing.conftest import tone_mix, wav_bytes

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "fan_free",
    "premium_owner",
    "other_fan",
    "artist_owner",
    "other_artist",
    "songwriter",
    "auditor",
    "admin",
)
LOGIN = "login"  # 302 to the log-in page, which comes back here
ANY_STEP = "200|302"  # allauth's multi-step flows: a page, or the step before it


def row(*cells) -> dict[str, object]:
    """One cell per role, in the order of ROLES."""
    assert len(cells) == len(ROLES)
    return dict(zip(ROLES, cells, strict=True))


def everyone(cell) -> dict[str, object]:
    return dict.fromkeys(ROLES, cell)


def signed_in(cell, anonymous=LOGIN) -> dict[str, object]:
    return {**everyone(cell), "anonymous": anonymous}


L = LOGIN
# A 302's target is written as a path ("{remix_id}" and the like are filled in
# from the world); a path ending in "*" matches any tail (a new draft's id).
# Pages: GET. Routes that only accept POST: POST with an empty body.
POST = "post"
GET = "get"
ADMIN_LOGIN = "/admin/login/?next=/billing/webhooks/"
# The audit is for the staff auditor role; an admin without it is refused
# (separation of duties: tests/marketplace/audit/test_pages.py).
STAFF = row(L, 403, 403, 403, 403, 403, 403, 200, 403)
OWNER_FAN_404 = row(L, 404, 200, 404, 404, 404, 404, 404, 404)
API_OWNER_FAN = row(403, 404, 200, 404, 404, 404, 404, 404, 404)
API_SIGNED_IN = row(403, 200, 200, 200, 200, 200, 200, 200, 200)
PARTY_READERS = row(L, 404, 404, 404, 200, 404, 404, 200, 404)
PARTY_STEP = "/payouts/party/{party_id}/"
CHECKOUT = "{stripe}/pay/*"  # Stripe's hosted checkout (the sandbox here)
ONBOARDING = "{stripe}/connect/onboard/*"  # Stripe Connect's hosted onboarding
PARTY_ACTION = row(L, 404, 404, 404, ONBOARDING, 404, 404, PARTY_STEP, 404)
REMIX_PAGE = "/my/remixes/{remix_id}/"
OWNER_ONLY_PARTY = row(L, 403, 403, 403, 200, 403, 403, 403, 403)

MATRIX: dict[str, tuple[str, dict[str, object]]] = {
    "": (GET, everyone(200)),
    "artists/<int:party_id>/": (GET, everyone(200)),
    "artists/<int:party_id>/follow/": (POST, signed_in("/artists/{party_id}/")),
    # Published: anyone may play it, on any site (the embed) or through the short link.
    "embed/remix/<str:share_slug>/": (GET, everyone(200)),
    "following/": (GET, signed_in(200)),
    "following/notices/read/": (POST, signed_in("/following/")),
    "people/<str:handle>/follow/": (POST, signed_in("/people/{handle}/")),
    "remixes/": (GET, everyone(200)),
    "remixes/<str:share_slug>/like/": (POST, signed_in("/studio/r/{share_slug}/")),
    "s/<str:share_slug>/": (GET, everyone("/studio/r/{share_slug}/")),
    "search/": (GET, everyone(200)),
    # The author has not allowed building on this remix (off by default): nobody may fork it.
    "studio/r/<str:share_slug>/fork/": (POST, signed_in(403)),
    "studio/remixes/<int:remix_id>/forks/": (
        POST,
        {**OWNER_FAN_404, "premium_owner": "/studio/r/{share_slug}/"},
    ),
    "^media/(?P<path>.*)$": (GET, row(404, 404, 404, 404, 200, 404, 404, 200, 200)),
    "account/": (GET, signed_in(200)),
    "account/delete/": (GET, signed_in(200)),
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": (GET, everyone(200)),
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": (GET, everyone(200)),
    "accounts/confirm-email/": (GET, everyone(200)),
    "accounts/email/": (GET, signed_in(200)),
    "accounts/inactive/": (GET, everyone(200)),
    "accounts/login/": (GET, signed_in("/", anonymous=200)),
    "accounts/login/code/confirm/": (GET, signed_in("/", anonymous="/accounts/login/")),
    "accounts/logout/": (GET, signed_in(200, anonymous="/")),
    "accounts/password/change/": (GET, signed_in(200)),
    "accounts/password/reset/": (GET, everyone(200)),
    "accounts/password/reset/done/": (GET, everyone(200)),
    "accounts/password/reset/key/done/": (GET, everyone(200)),
    "accounts/password/set/": (GET, signed_in("/accounts/password/change/")),
    "accounts/reauthenticate/": (GET, signed_in(200)),
    "accounts/reauthenticate/code/": (GET, signed_in(ANY_STEP)),
    "accounts/reauthenticate/code/confirm/": (GET, signed_in("/accounts/reauthenticate/code/")),
    "accounts/signup/": (GET, signed_in("/", anonymous=200)),
    "api/docs/": (GET, everyone(200)),
    "api/schema/": (GET, everyone(200)),
    "api/v1/consent/": (POST, signed_in(400, anonymous=403)),
    "api/v1/parties/<int:party_id>/consent/": (
        GET,
        row(403, 403, 403, 403, 200, 403, 403, 200, 200),
    ),
    "api/v1/parties/<int:party_id>/consent/history/": (
        GET,
        row(403, 403, 403, 403, 200, 403, 403, 200, 200),
    ),
    "api/v1/recordings/<int:recording_id>/presets/<slug:slug>/recipe/": (GET, API_SIGNED_IN),
    "api/v1/remix-notices/": (GET, API_SIGNED_IN),
    "api/v1/remix-presets/": (GET, everyone(200)),
    "api/v1/remixes/": (GET, API_SIGNED_IN),
    "api/v1/remixes/<int:remix_id>/": (GET, API_OWNER_FAN),
    # Already published: the owner is told so (400); anyone else does not learn it exists.
    "api/v1/remixes/<int:remix_id>/publish/": (
        POST,
        row(403, 404, 400, 404, 404, 404, 404, 404, 404),
    ),
    # The owner's describe box: an empty sentence is refused (400); nobody else learns of it.
    "api/v1/remixes/<int:remix_id>/describe/": (
        POST,
        row(403, 404, 400, 404, 404, 404, 404, 404, 404),
    ),
    "api/v1/remixes/<int:remix_id>/recipe/": (GET, API_OWNER_FAN),
    "api/v1/remixes/<int:remix_id>/status/": (GET, API_OWNER_FAN),
    "api/v1/remixes/<int:remix_id>/stems/": (GET, API_OWNER_FAN),
    "api/v1/remixes/<int:remix_id>/unpublish/": (POST, API_OWNER_FAN),
    # Cover takes: the owner's own list; nobody else learns the remix exists.
    "api/v1/remixes/<int:remix_id>/takes/": (GET, API_OWNER_FAN),
    # Deleting a take is DELETE only: an empty POST changes nothing for anyone.
    "api/v1/remixes/<int:remix_id>/takes/<str:ref>/": (POST, signed_in(405, anonymous=403)),
    "api/v1/remixes/shared/<str:share_slug>/play/": (POST, everyone(200)),
    # The stem set of a recording: whoever remixes from it, its artist, staff.
    "api/v1/stem-sets/<int:stem_set_id>/": (GET, row(403, 404, 200, 404, 200, 404, 404, 200, 200)),
    "api/v1/tracks/": (GET, everyone(200)),
    "api/v1/tracks/<int:recording_id>/": (GET, everyone(200)),
    "audit/": (GET, STAFF),
    "audit/anomalies/<slug:kind>/": (GET, STAFF),
    "audit/artists/": (GET, STAFF),
    "audit/artists/<int:party_id>/report/": (GET, STAFF),
    "audit/checks/": (GET, STAFF),
    "audit/checks/run/": (POST, row(L, 403, 403, 403, 403, 403, 403, "/audit/", 403)),
    "audit/log/": (GET, STAFF),
    # Without a reason nothing is refunded: back to the trail with a message.
    "audit/orders/<int:order_id>/refund/": (
        POST,
        row(L, 403, 403, 403, 403, 403, 403, "/audit/remixes/{remix_id}/", 403),
    ),
    "audit/records/<slug:key>/<str:pk>/": (GET, STAFF),
    "audit/remixes/": (GET, STAFF),
    "audit/remixes/<int:remix_id>/": (GET, STAFF),
    "audit/stem-sets/<int:stem_set_id>/retry/": (
        POST,
        row(L, 403, 403, 403, 403, 403, 403, "/audit/records/stem-set/{stem_set_id}/", 403),
    ),
    "audit/transfers/<int:transfer_id>/retry/": (
        POST,
        row(L, 403, 403, 403, 403, 403, 403, "/audit/anomalies/failed_transfer/", 403),
    ),
    "billing/": (GET, signed_in(200)),
    "billing/checkout/cancelled/": (GET, signed_in("/pricing/")),
    "billing/checkout/status/": (GET, signed_in(404)),
    "billing/checkout/success/": (GET, signed_in("/billing/")),
    "billing/orders/<int:order_id>/": (GET, {**signed_in("/billing/"), "premium_owner": 200}),
    "billing/orders/return/": (GET, signed_in("/billing/")),
    # Only the remix's owner may pay for it: their checkout starts at Stripe.
    "billing/remixes/<int:remix_id>/buy/": (
        POST,
        {**signed_in("/billing/"), "premium_owner": CHECKOUT},
    ),
    # Premium already held: back to the plans; anyone else goes to Stripe's checkout.
    "billing/subscribe/<slug:plan_code>/": (
        POST,
        {**signed_in(CHECKOUT), "premium_owner": "/pricing/", "other_fan": "/pricing/"},
    ),
    "billing/subscriptions/<int:subscription_id>/cancel/": (POST, signed_in("/billing/")),
    "billing/webhooks/": (GET, {**everyone(ADMIN_LOGIN), "admin": 200}),
    "catalog/artist/": (GET, signed_in(200)),
    "catalog/artist/claim/": (GET, signed_in(200)),
    "catalog/artist/parties/<int:party_id>/consent/grant/": (
        POST,
        row(L, 403, 403, 403, "/catalog/artist/", 403, 403, 403, 403),
    ),
    "catalog/artist/parties/<int:party_id>/consent/revoke/": (GET, OWNER_ONLY_PARTY),
    "catalog/artist/parties/<int:party_id>/history/": (
        GET,
        row(L, 403, 403, 403, 200, 403, 403, 200, 200),
    ),
    "catalog/artist/parties/<int:party_id>/terms/": (GET, OWNER_ONLY_PARTY),
    "catalog/artist/upload/": (GET, row(L, 403, 403, 403, 200, 200, 403, 403, 403)),
    "catalog/recordings/<int:recording_id>/": (GET, everyone(200)),
    "catalog/recordings/<int:recording_id>/splits/": (
        GET,
        row(L, 403, 403, 403, 200, 403, 403, 403, 200),
    ),
    # Staff (the admin) may; without a reason nothing is taken down.
    "catalog/recordings/<int:recording_id>/takedown/": (
        POST,
        row(L, 403, 403, 403, 403, 403, 403, 403, "/catalog/recordings/{recording_id}/"),
    ),
    "catalog/staff/claims/": (GET, row(L, 403, 403, 403, 403, 403, 403, 403, 200)),
    # Uploads refused as ghost tracks: staff (the admin) decide; the auditor reads the log.
    "catalog/staff/ghost-tracks/": (GET, row(L, 403, 403, 403, 403, 403, 403, 403, 200)),
    "healthz": (GET, everyone(200)),
    "my/remixes/": (GET, signed_in(200)),
    "my/remixes/<int:remix_id>/": (GET, OWNER_FAN_404),
    # Published but never rendered here: no file to hand out, to anyone.
    "my/remixes/<int:remix_id>/download/<str:fmt>/": (GET, signed_in(404)),
    "my/remixes/<int:remix_id>/export/": (POST, {**OWNER_FAN_404, "premium_owner": CHECKOUT}),
    "my/remixes/<int:remix_id>/publish/": (POST, {**OWNER_FAN_404, "premium_owner": REMIX_PAGE}),
    "my/remixes/<int:remix_id>/unpublish/": (POST, {**OWNER_FAN_404, "premium_owner": REMIX_PAGE}),
    # No take of that ref here, for anyone (the owner's own takes: test_fan_pages).
    "my/remixes/<int:remix_id>/takes/<str:ref>/delete/": (POST, signed_in(404)),
    "my/remixes/notices/read/": (POST, signed_in("/my/remixes/")),
    "payouts/": (GET, signed_in(200)),
    "payouts/party/<int:party_id>/": (GET, PARTY_READERS),
    # Auditors read a party's payouts; only its holder may onboard (sent back, nothing made).
    "payouts/party/<int:party_id>/connect/": (POST, PARTY_ACTION),
    "payouts/party/<int:party_id>/connect/refresh/": (GET, PARTY_ACTION),
    # Back from Stripe: the holder (and an auditor) land on the party's payouts.
    "payouts/party/<int:party_id>/connect/return/": (
        GET,
        row(L, 404, 404, 404, PARTY_STEP, 404, 404, PARTY_STEP, 404),
    ),
    "payouts/party/<int:party_id>/statement.csv": (GET, PARTY_READERS),
    "people/<str:handle>/": (GET, everyone(200)),
    "pricing/": (GET, everyone(200)),
    "stripe/webhook": (POST, everyone(400)),
    "studio/r/<str:share_slug>/": (GET, everyone(200)),
    "studio/remixes/<int:remix_id>/": (GET, {**OWNER_FAN_404, "premium_owner": REMIX_PAGE}),
    # A premium fan gets a draft of their own, its studio rendered at once (no
    # redirect hop before the first sound); no plan, no studio.
    "studio/tracks/<int:recording_id>/": (
        GET,
        row(L, 403, 200, 200, 403, 403, 403, 403, 403),
    ),
    "tracks/": (GET, everyone(200)),
    "tracks/<int:recording_id>/": (GET, everyone(200)),
}
# Routes written as regular expressions: the URL each cell asks for.
SAMPLES = {
    "^media/(?P<path>.*)$": "/media/{recording_audio}",
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": "/accounts/confirm-email/no-such-key/",
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": (
        "/accounts/password/reset/key/1-no-such-key/"
    ),
}
CSRF_EXEMPT = {
    # Reached by Stripe, not a browser: signed instead.
    "stripe/webhook",
    # A play counts once per listener and window, anonymous visitors included
    # (rate-limited); a token would protect nothing a stranger cannot do.
    "api/v1/remixes/shared/<str:share_slug>/play/",
}


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def all_routes() -> list[str]:
    return sorted(set(_walk(get_resolver().url_patterns)))


def _world() -> tuple[dict[str, object], dict[str, object]]:
    """The objects every path names, and the user of each signed-in role."""
    artist, party = artist_user("Owner Artist")
    songwriter = UserFactory(is_songwriter=True, is_fan=False)
    writer = PartyFactory(kind="songwriter", name="Owner Writer", user=songwriter)
    Party.objects.filter(pk=writer.pk).update(claim_verified=True)
    recording = RecordingFactory(work=WorkFactory(), title="Owner Track")
    recording.audio.save("owner.wav", ContentFile(wav_bytes(tone_mix(1.0))))
    credit(recording, party)
    complete_splits(recording, publishing=[(writer, 10_000)])
    consent_grant(party=party, actor=artist, reason="opt in")
    owner = UserFactory(handle="premiumowner")
    entitle(owner)
    stem_set = StemSet.objects.create(
        audio_sha256="a" * 64,
        model_name="demucs_unittest",
        recording=recording,
        status=StemSet.Status.READY,
    )
    verdict = recording_remixability(recording=recording)
    remix = Remix.objects.create(
        fan=owner,
        recording=recording,
        title="Owner Remix",
        recipe={"version": 1},
        stem_set=stem_set,
        status=Remix.Status.PUBLISHED,
        published_at=timezone.now(),
        master_split_version_id=verdict.master_split_version_id,
        publishing_split_version_id=verdict.publishing_split_version_id,
    )
    remix.consent_events.set(verdict.consent_event_ids)
    order = OrderFactory(fan=owner, remix=remix)
    other_fan = UserFactory()
    entitle(other_fan)
    users = {
        "fan_free": UserFactory(),
        "premium_owner": owner,
        "other_fan": other_fan,
        "artist_owner": artist,
        "other_artist": artist_user("Other Artist")[0],
        "songwriter": songwriter,
        "auditor": UserFactory(is_auditor=True, is_fan=False),
        "admin": staff_user(),
    }
    things = {
        "recording_id": recording.pk,
        "party_id": party.pk,
        "remix_id": remix.pk,
        "stem_set_id": stem_set.pk,
        "order_id": order.pk,
        "subscription_id": Subscription.objects.filter(user=owner).first().pk,
        "transfer_id": 987654,
        "slug": "chill",
        "kind": next(iter(KINDS_BY_KEY)),
        "plan_code": "premium",
        "fmt": "mp3",
        "share_slug": remix.share_slug,
        "handle": "premiumowner",
        "key": "order",
        "pk": order.pk,
        "recording_audio": recording.audio.name,
        "ref": "0" * 32,
    }
    return things, users


def _fill(route: str, things: dict[str, object]) -> str:
    url = route
    for name, value in things.items():
        for converter in ("int", "str", "slug"):
            url = url.replace(f"<{converter}:{name}>", str(value))
    return "/" + url


def _url(route: str, things: dict[str, object]) -> str:
    return SAMPLES[route].format(**things) if route in SAMPLES else _fill(route, things)


def _matches(response, expected: object, url: str, things: dict[str, object]) -> bool:
    status = response.status_code
    if isinstance(expected, int):
        return status == expected
    if expected == ANY_STEP:
        return status in (200, 302)
    location = response.get("Location", "")
    if expected == LOGIN:
        return status == 302 and location == f"/accounts/login/?next={url}"
    target = str(expected).format(**things)
    if target.endswith("*"):
        return status == 302 and location.startswith(target[:-1])
    return status == 302 and location == target


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, stripe_sandbox_server, tmp_path_factory):
    """Built once for the module's tests (tests/fixtures/shared_world.py).

    Stripe is the process's sandbox, emptied first, always (once any test starts
    it, every later one talks to it): checkouts and onboarding links really start."""
    media_root = tmp_path_factory.mktemp("route-matrix-media")
    with override_settings(MEDIA_ROOT=str(media_root)), rolled_back(django_db_blocker):
        sandbox_empty(stripe_sandbox_server)
        plan_catalog_sync()
        things, users = _world()
        things["stripe"] = stripe_sandbox_server.url
        yield things, session_keys(users)


@pytest.fixture
def world(shared_world, db):
    things, keys = shared_world
    return things, clients_for(keys)


def test_every_route_is_in_the_table():
    assert sorted(MATRIX) == all_routes()


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_each_role_gets_the_declared_answer(route, world):
    things, clients = world
    method, expected = MATRIX[route]
    url = _url(route, things)
    wrong = []
    for role in ROLES:
        response = getattr(clients[role], method)(url)
        if response.status_code >= 500 or not _matches(response, expected[role], url, things):
            got = f"{response.status_code} {response.get('Location', '')}".strip()
            wrong.append(f"{role}: expected {expected[role]}, got {got}")
        if route.startswith("api/v1/") and response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "fields"}, (role, url)
    assert wrong == [], f"{method.upper()} {url}"


def _first_allowed(expected: dict[str, object]) -> str:
    """A role that gets past the door (else the admin): CSRF must stop even them."""
    for role in ROLES[1:]:
        if expected[role] not in (403, 404, LOGIN):
            return role
    return "admin"


@pytest.mark.parametrize(
    "route",
    sorted(r for r, (method, _) in MATRIX.items() if method == POST and r not in CSRF_EXEMPT),
)
def test_state_changing_routes_need_a_csrf_token(route, world):
    things, clients = world
    role = _first_allowed(MATRIX[route][1])
    client = Client(enforce_csrf_checks=True)
    client.force_login(_user_of(clients[role]))
    response = client.post(_url(route, things))
    assert response.status_code == 403, (role, route, response.status_code)
    body = response.content.decode()
    assert "CSRF" in body, body[:300]


def _user_of(client: Client):
    return get_user_model().objects.get(pk=client.session["_auth_user_id"])
