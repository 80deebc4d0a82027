"""Concurrent duplicates: several threads deliver one event at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from marketplace.billing.handlers import HANDLERS, WebhookHandler
from marketplace.models import WebhookEvent
from tests.fixtures.stripe import make_event, post_webhook

CUSTOM = "clearmix.concurrent_test"


def test_concurrent_duplicates_run_handlers_once(flushable_db, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SQLite serialises all writers anyway.")
    calls: list[str] = []
    lock = threading.Lock()
    inside = threading.Event()

    def slow_handler(event, fetched):
        inside.set()
        # Hold the transaction open so the other threads pile up on the row.
        threading.Event().wait(0.3)
        with lock:
            calls.append(event.id)

    monkeypatch.setitem(HANDLERS, CUSTOM, (WebhookHandler(apply=slow_handler),))
    event = make_event(CUSTOM, {"id": "obj_c"}, event_id="evt_concurrent")
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def deliver():
        try:
            barrier.wait()
            response = post_webhook(Client(), event)
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert inside.is_set()
    assert statuses == [200] * 6
    assert calls == ["evt_concurrent"]
    row = WebhookEvent.objects.get(stripe_event_id="evt_concurrent")
    assert row.status == WebhookEvent.Status.PROCESSED
    assert row.duplicates == 5 and row.attempts == 1
