"""The one webhook endpoint: signatures, storage once, dispatch, failure → 5xx."""

from __future__ import annotations

import json
import time

import pytest

from marketplace.billing.handlers import HANDLERS, WebhookHandler
from marketplace.models import WebhookEvent
from tests.fixtures.stripe import make_event, post_webhook, stripe_signature

CUSTOM = "clearmix.test_event"


@pytest.fixture
def calls(monkeypatch):
    seen: list[str] = []

    def handler(event, fetched):
        seen.append(event.id)

    monkeypatch.setitem(HANDLERS, CUSTOM, (WebhookHandler(apply=handler),))
    return seen


@pytest.mark.parametrize(
    "signature",
    [
        "",  # unsigned
        "t=123,v1=deadbeef",  # mis-signed
        "garbage",
    ],
)
def test_unsigned_or_missigned_is_400_and_changes_nothing(client, db, calls, signature):
    response = post_webhook(client, make_event(CUSTOM, {"id": "x"}), signature=signature)
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert calls == []


def test_wrong_secret_is_400(client, db, calls):
    response = post_webhook(client, make_event(CUSTOM, {"id": "x"}), secret="whsec_not_ours")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_stale_signature_is_400(client, db, calls):
    stale = int(time.time()) - 301
    response = post_webhook(client, make_event(CUSTOM, {"id": "x"}), timestamp=stale)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists() and calls == []


def test_reserialised_body_is_400(client, db, calls, settings):
    event = make_event(CUSTOM, {"id": "x"})
    original = json.dumps(event, indent=2)
    signature = stripe_signature(original, settings.STRIPE_WEBHOOK_SECRET)
    # Same JSON, different bytes: a proxy or framework that re-serialised it.
    reserialised = json.dumps(json.loads(original), separators=(",", ":"))
    response = post_webhook(client, reserialised, signature=signature)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists() and calls == []


def test_get_is_not_allowed(client, db):
    assert client.get("/stripe/webhook").status_code == 405


def test_unknown_type_is_200_and_recorded_ignored(client, db):
    response = post_webhook(client, make_event("issuing_card.created", {"id": "ic_1"}))
    assert response.status_code == 200
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.IGNORED
    assert row.type == "issuing_card.created" and row.object_id == "ic_1"


def test_registered_handler_runs_once_for_duplicates(client, db, calls):
    event = make_event(CUSTOM, {"id": "obj_1"}, event_id="evt_dupe_1")
    first = post_webhook(client, event)
    second = post_webhook(client, event)
    third = post_webhook(client, event)
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert calls == ["evt_dupe_1"]
    assert [first.json()["duplicate"], second.json()["duplicate"]] == [False, True]
    row = WebhookEvent.objects.get(stripe_event_id="evt_dupe_1")
    assert row.status == WebhookEvent.Status.PROCESSED and row.duplicates == 2
    assert row.handlers == [f"{__name__}.calls.<locals>.handler"]


def test_handler_failure_is_500_rolls_back_and_retry_succeeds(
    client, db, django_user_model, monkeypatch
):
    attempts = {"n": 0}

    def flaky(event, fetched):
        attempts["n"] += 1
        # A write that must vanish with the failed attempt.
        django_user_model.objects.create_user(email=f"side-effect-{attempts['n']}@example.com")
        if attempts["n"] == 1:
            raise RuntimeError("ledger unavailable")

    monkeypatch.setitem(HANDLERS, CUSTOM, (WebhookHandler(apply=flaky),))
    event = make_event(CUSTOM, {"id": "obj_2"}, event_id="evt_flaky")
    failed = post_webhook(client, event)
    assert failed.status_code == 500
    row = WebhookEvent.objects.get(stripe_event_id="evt_flaky")
    assert row.status == WebhookEvent.Status.FAILED
    assert "ledger unavailable" in row.last_error
    assert not django_user_model.objects.filter(email="side-effect-1@example.com").exists()

    retried = post_webhook(client, event)  # Stripe's retry
    assert retried.status_code == 200
    row.refresh_from_db()
    assert row.status == WebhookEvent.Status.PROCESSED and row.attempts == 2
    assert django_user_model.objects.filter(email="side-effect-2@example.com").exists()


def test_several_handlers_fetch_all_then_apply_in_table_order(client, db, monkeypatch):
    order: list[str] = []

    def fetch(name):
        def read(event):
            order.append(f"fetch {name}")
            return name.upper()

        return read

    def apply(event, fetched):
        order.append(f"apply {fetched}")

    monkeypatch.setitem(
        HANDLERS,
        CUSTOM,
        (
            WebhookHandler(apply=apply, fetch=fetch("first")),
            WebhookHandler(apply=apply, fetch=fetch("second")),
        ),
    )
    assert post_webhook(client, make_event(CUSTOM, {"id": "o"})).status_code == 200
    assert order == ["fetch first", "fetch second", "apply FIRST", "apply SECOND"]


def test_a_failing_fetch_is_500_and_applies_nothing(client, db, monkeypatch):
    applied: list[str] = []

    def unreachable(event):
        raise ConnectionError("Stripe did not answer")

    monkeypatch.setitem(
        HANDLERS,
        CUSTOM,
        (
            WebhookHandler(apply=lambda event, fetched: applied.append("first")),
            WebhookHandler(
                apply=lambda event, fetched: applied.append("second"), fetch=unreachable
            ),
        ),
    )
    response = post_webhook(client, make_event(CUSTOM, {"id": "o"}, event_id="evt_unreachable"))
    assert response.status_code == 500 and applied == []
    row = WebhookEvent.objects.get(stripe_event_id="evt_unreachable")
    assert row.status == WebhookEvent.Status.FAILED and "did not answer" in row.last_error


def test_staff_page_lists_events_with_status(client, db, auditor):
    post_webhook(client, make_event("issuing_card.created", {"id": "ic_2"}, event_id="evt_shown"))
    assert client.get("/billing/webhooks/").status_code == 302  # anonymous → login
    client.force_login(auditor)
    page = client.get("/billing/webhooks/")
    assert page.status_code == 200
    assert b"evt_shown" in page.content and b"ignored" in page.content


@pytest.mark.parametrize("signed", [True, False])
def test_deeply_nested_body_is_400_not_a_recursion_error(client, db, signed):
    body = '{"id": "evt_deep", "object": "event", "data": ' + "[" * 5_000 + "]" * 5_000 + "}"
    response = post_webhook(client, body, signature=None if signed else "t=1,v1=00")
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
