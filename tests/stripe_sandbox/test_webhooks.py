"""Webhook delivery: real signatures, retries with backoff, and the misbehaviour hooks."""

from __future__ import annotations

import itertools
import time

import pytest
import stripe

import stripe_sandbox
from stripe_sandbox.testing import WebhookReceiver, hook

from .conftest import FAST_RETRIES, WEBHOOK_SECRET
from .helpers import catalog, express_account, onboard, paid_payment


def test_deliveries_are_signed_and_verify_with_the_sdk(
    sdk, sandbox, receiver: WebhookReceiver
) -> None:
    paid_payment(catalog()["one_time"].id)
    assert sandbox.wait_for_webhooks(5)
    received = receiver.received
    assert [r.event["type"] for r in received][-1] == "checkout.session.completed"
    for webhook in received:
        assert webhook.headers["content-type"].startswith("application/json")
        event = stripe.Webhook.construct_event(webhook.payload, webhook.signature, WEBHOOK_SECRET)
        assert event.id.startswith("evt_")
        assert event.object == "event"
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(webhook.payload, webhook.signature, "whsec_wrong")
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(webhook.payload + " ", webhook.signature, WEBHOOK_SECRET)
    # Delivered events are marked as such.
    assert stripe.Event.retrieve(received[0].event["id"]).pending_webhooks == 0


def test_signature_survives_clock_advance(sdk, sandbox, receiver: WebhookReceiver) -> None:
    # Events carry sandbox time; signatures must use real time or the SDK's 5-minute tolerance
    # would reject everything after the clock moved.
    hook(sandbox.url, "clock/advance", {"days": 400})
    stripe.Customer.create(email="future@example.com")
    webhook = receiver.wait_for_count(1)[0]
    event = stripe.Webhook.construct_event(webhook.payload, webhook.signature, WEBHOOK_SECRET)
    assert event.created > time.time() + 399 * 86400


def test_failing_receiver_is_retried_with_backoff(sdk, sandbox, receiver: WebhookReceiver) -> None:
    receiver.fail_next(2, status=500)
    customer = stripe.Customer.create(email="retry@example.com")
    received = receiver.wait_for_count(3)
    assert [r.status for r in received] == [500, 500, 200]
    assert {r.event["data"]["object"]["id"] for r in received} == {customer.id}
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(received)]
    # Backoff doubles (0.02 s, then 0.04 s); only lower bounds, so a slow machine cannot flake.
    assert gaps[0] >= 0.018
    assert gaps[1] >= 0.036
    assert sandbox.wait_for_webhooks(5)
    attempts = hook(sandbox.url, f"deliveries?event={received[0].event['id']}")["data"]
    assert [(a["attempt"], a["status"], a["succeeded"]) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert attempts[0]["next_retry_in"] == pytest.approx(0.02)
    assert attempts[1]["next_retry_in"] == pytest.approx(0.04)
    assert attempts[2]["next_retry_in"] is None
    assert stripe.Event.retrieve(received[0].event["id"]).pending_webhooks == 0


def test_attempts_are_bounded(sdk, sandbox, receiver: WebhookReceiver) -> None:
    receiver.fail_next(10, status=503)
    stripe.Customer.create()
    assert sandbox.wait_for_webhooks(5)
    attempts = hook(sandbox.url, "deliveries")["data"]
    assert len(attempts) == FAST_RETRIES["max_attempts"]
    assert all(not a["succeeded"] for a in attempts)
    assert stripe.Event.list().data[0].pending_webhooks == 1


def test_connection_errors_are_retried(sdk, monkeypatch) -> None:
    dead = WebhookReceiver()
    dead_url = dead.url
    dead.stop()
    server = stripe_sandbox.start(
        port=0, webhook_url=dead_url, webhook_secret=WEBHOOK_SECRET, **FAST_RETRIES
    )
    try:
        monkeypatch.setattr(stripe, "api_base", server.url)
        stripe.Customer.create()
        assert server.wait_for_webhooks(5)
        attempts = hook(server.url, "deliveries")["data"]
        assert len(attempts) == FAST_RETRIES["max_attempts"]
        assert all(a["status"] is None and a["error"] for a in attempts)
    finally:
        server.stop()


def test_hold_then_release_in_reverse_order(sdk, sandbox, receiver: WebhookReceiver) -> None:
    hook(sandbox.url, "webhooks/hold", {})
    ids = [stripe.Customer.create(email=f"{i}@example.com").id for i in range(3)]
    time.sleep(0.05)
    assert receiver.received == []
    assert len(hook(sandbox.url, "webhooks")["held"]) == 3
    released = hook(sandbox.url, "webhooks/release", {"order": "reverse"})["released"]
    assert len(released) == 3
    received = receiver.wait_for_count(3)
    assert [r.event["data"]["object"]["id"] for r in received] == list(reversed(ids))
    # Delivery is back to normal afterwards.
    later = stripe.Customer.create()
    assert receiver.wait_for_count(4)[-1].event["data"]["object"]["id"] == later.id


def test_redeliver_duplicates_an_event(sdk, sandbox, receiver: WebhookReceiver) -> None:
    stripe.Customer.create()
    first = receiver.wait_for_count(1)[0].event
    queued = hook(sandbox.url, f"events/{first['id']}/redeliver", {"times": 2})
    assert queued == {"event": first["id"], "queued": 2}
    received = receiver.wait_for_count(3)
    assert [r.event["id"] for r in received] == [first["id"]] * 3
    for webhook in received:
        stripe.Webhook.construct_event(webhook.payload, webhook.signature, WEBHOOK_SECRET)


def test_late_delivery_lets_later_events_overtake(sdk, sandbox, receiver: WebhookReceiver) -> None:
    hook(sandbox.url, "webhooks/delay", {"seconds": 0.5, "count": 1, "types": ["customer.created"]})
    late = stripe.Customer.create()
    on_time = stripe.Product.create(name="p")
    received = receiver.wait_for_count(2)
    assert [r.event["data"]["object"]["id"] for r in received] == [on_time.id, late.id]
    assert received[1].received_at - received[0].received_at > 0.3


def test_flush_waits_for_queue(sdk, sandbox, receiver: WebhookReceiver) -> None:
    hook(sandbox.url, "webhooks/delay", {"seconds": 0.2})
    stripe.Customer.create()
    assert hook(sandbox.url, "webhooks/flush", {"timeout": 5}) == {"idle": True}
    assert len(receiver.received) == 1


def test_connect_endpoint_receives_connected_account_events(
    sdk, sandbox, receiver: WebhookReceiver
) -> None:
    connect_receiver = WebhookReceiver()
    try:
        hook(
            sandbox.url,
            "webhooks/endpoints",
            {
                "endpoints": [
                    {"url": receiver.url, "secret": WEBHOOK_SECRET, "kind": "platform"},
                    {"url": connect_receiver.url, "secret": "whsec_connect", "kind": "connect"},
                ]
            },
        )
        account = onboard(express_account().id)
        stripe.Customer.create()
        assert sandbox.wait_for_webhooks(5)
        assert connect_receiver.types() == ["account.updated"]
        webhook = connect_receiver.received[0]
        event = stripe.Webhook.construct_event(webhook.payload, webhook.signature, "whsec_connect")
        assert event.account == account.id
        assert receiver.types() == ["customer.created"]
    finally:
        connect_receiver.stop()


def test_no_endpoints_means_no_deliveries_but_events_exist(
    sdk, sandbox, receiver: WebhookReceiver
) -> None:
    hook(sandbox.url, "webhooks/endpoints", {"endpoints": []})
    stripe.Customer.create()
    assert sandbox.wait_for_webhooks(2)
    assert receiver.received == []
    event = stripe.Event.list().data[0]
    assert event.pending_webhooks == 0


def test_reset_clears_state(sdk, sandbox) -> None:
    stripe.Customer.create()
    hook(sandbox.url, "reset", {})
    assert stripe.Customer.list().data == []
    assert stripe.Event.list().data == []
    assert hook(sandbox.url, "deliveries")["data"] == []
