"""Every page that reads a form or a query string, fed wrong types, NUL bytes,
huge, negative and overlong values and unicode oddities, by a user who may
use it. The answer is a page, a redirect or a 4xx; never a 500. Run it on
PostgreSQL too (DATABASE_URL): SQLite forgives NUL bytes that PostgreSQL refuses.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from catalog.terms import TERM_KEYS
from remixing.models import Remix
from tests.catalog.factories import remixable_recording, staff_user
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import OrderFactory, SubscriptionFactory, entitle

pytestmark = pytest.mark.django_db

BAD_VALUES = [
    "\x00",
    "a\x00b",
    "",
    " ",
    "-1",
    "0",
    "1.5",
    "1e309",
    "NaN",
    "99999999999999999999999999999",
    "-99999999999999999999999999999",
    "x" * 20_000,
    "١٢٣",  # Arabic-Indic digits: isdigit() says yes, int() too, the database may not
    "\u202egnp.exe",
    "🎧" * 500,
    "e\u0301",
    "../../../etc/passwd",
    "<script>alert(1)</script>",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "true",
    "[]",
    "{}",
    "//evil.example/",
    "https://evil.example/",
]


def _world() -> dict:
    recording, party, artist = remixable_recording("Form Artist")
    order = OrderFactory(fan=UserFactory())
    fan = order.fan
    entitle(fan)
    subscription = SubscriptionFactory(user=fan)
    Remix.objects.filter(pk=order.remix_id).update(status=Remix.Status.READY)
    return {
        "artist": artist,
        "fan": fan,
        "staff": staff_user(),
        "auditor": UserFactory(is_auditor=True, is_staff=True),
        "party": party.pk,
        "recording": recording.pk,
        "remix": order.remix_id,
        "subscription": subscription.pk,
    }


# (who, method, url name, url args (keys of the world), fields to fill). The
# upload form streams its body past the NUL check; its form fields refuse NUL.
FORMS = [
    ("fan", "get", "marketplace:catalog", [], ["q", "genre", "mood", "key", "tempo_min"]),
    ("fan", "get", "marketplace:catalog", [], ["tempo_max", "show_all"]),
    ("fan", "post", "marketplace:remix_notices_read", [], ["notice"]),
    ("fan", "post", "marketplace:remix_publish", ["remix"], ["title", "description"]),
    ("fan", "post", "marketplace:order_start", ["remix"], ["next"]),
    (
        "fan",
        "post",
        "marketplace:subscription_cancel_toggle",
        ["subscription"],
        ["cancel_at_period_end"],
    ),
    ("fan", "get", "marketplace:checkout_success", [], ["session_id"]),
    ("fan", "get", "marketplace:checkout_status", [], ["session_id"]),
    ("fan", "get", "marketplace:order_return", [], ["session_id"]),
    ("fan", "get", "marketplace:my_remix", ["remix"], ["session_id"]),
    ("staff", "get", "marketplace:webhook_events", [], ["status"]),
    ("artist", "get", "catalog:party_claim", [], ["q"]),
    ("artist", "post", "catalog:party_claim", [], ["party"]),
    ("staff", "post", "catalog:staff_claims", [], ["party", "decision", "reason"]),
    ("artist", "post", "catalog:consent_grant", ["party"], ["recording", "reason"]),
    ("artist", "get", "catalog:consent_revoke", ["party"], ["recording"]),
    ("artist", "post", "catalog:consent_revoke", ["party"], ["recording", "reason"]),
    ("artist", "post", "catalog:consent_terms", ["party"], ["recording", "reason", *TERM_KEYS]),
    ("artist", "get", "catalog:recording_splits", ["recording"], ["side"]),
    ("artist", "post", "catalog:recording_splits", ["recording"], ["side", "shares-0-party"]),
    ("artist", "post", "catalog:recording_splits", ["recording"], ["shares-0-percent"]),
    ("artist", "post", "catalog:recording_splits", ["recording"], ["shares-TOTAL_FORMS"]),
    ("staff", "post", "catalog:recording_takedown", ["recording"], ["reason", "action"]),
    ("artist", "post", "catalog:recording_upload", [], ["title", "main_artists", "tempo_bpm"]),
    ("artist", "post", "catalog:recording_upload", [], ["isrc", "iswc", "key", "mood", "genre"]),
    (
        "artist",
        "post",
        "catalog:recording_upload",
        [],
        ["main_artists", "consent", "writers", "i_wrote_it", "my_writer_role"],
    ),
    (
        "artist",
        "post",
        "catalog:recording_upload",
        [],
        ["new_writer_1_name", "new_writer_1_role", "new_writer_1_ipi", "new_writer_2_ipi"],
    ),
    ("artist", "get", "royalties:statement", ["party"], ["start", "end"]),
    ("auditor", "get", "marketplace:audit_remixes", [], ["artist", "party", "from", "page"]),
    ("auditor", "get", "marketplace:audit_log", [], ["actor", "from", "to", "format"]),
    ("auditor", "post", "marketplace:audit_check_run", [], ["name"]),
]

SPLIT_MANAGEMENT = {
    "shares-TOTAL_FORMS": "6",
    "shares-INITIAL_FORMS": "0",
    "shares-MIN_NUM_FORMS": "6",
    "shares-MAX_NUM_FORMS": "12",
}


@pytest.mark.parametrize(("who", "method", "name", "args", "fields"), FORMS)
def test_bad_form_values_are_never_a_500(who, method, name, args, fields):
    world = _world()
    client = Client(raise_request_exception=False)
    client.force_login(world[who])
    url = reverse(name, args=[world[key] for key in args])
    for value in BAD_VALUES:
        data = {**SPLIT_MANAGEMENT, **dict.fromkeys(fields, value)}
        response = getattr(client, method)(url, data)
        assert response.status_code < 500, (name, repr(value)[:40], response.status_code)
        if "\x00" in value and name != "catalog:recording_upload":
            assert response.status_code == 400, (name, response.status_code)
        if response.status_code in (301, 302):
            location = response["Location"]
            # Our own pages, or Stripe's hosted checkout when the purchase went
            # through (the bad value was in `next`, which is ignored then).
            to_checkout = location.startswith(f"{settings.STRIPE_API_BASE}/pay/")
            local = location.startswith("/") and not location.startswith("//")
            assert local or to_checkout, location
