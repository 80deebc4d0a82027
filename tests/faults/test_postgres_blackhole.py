"""PostgreSQL black-holed mid-conversation: the fault proxy keeps the
connection open and stops forwarding (no reset), so neither the connect
timeout nor the server's statement timeout can help (the server never sees
the statement). The client's reply deadline (DATABASE_REPLY_TIMEOUT_MS,
marketplace.db_deadline) ends the wait: a request answers 503 in plain words
within about that deadline, a settlement is rolled back whole and settled
exactly once when the database is back.

Needs PostgreSQL (skips on SQLite: there is no connection to black-hole).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management import call_command
from django.db import OperationalError, close_old_connections, connection

from marketplace.billing.fulfilment import order_fulfil
from marketplace.tasks import order_fulfil_task
from royalties.audit import ledger_verify
from royalties.models import Entry, LedgerTransaction, Settlement
from tests.marketplace.billing.factories import entitle
from tests.marketplace.test_money_end_to_end import paid_order

pytestmark = pytest.mark.django_db(transaction=True)

REPLY_MS = 1000
HANG_S = 8
MESSAGE = "Clearmix can&#x27;t reach its database right now."


@pytest.fixture
def client(client):
    client.raise_request_exception = False
    return client


@pytest.fixture
def short_reply_deadline(settings, database_via_proxy):
    settings.DATABASE_REPLY_TIMEOUT_MS = REPLY_MS
    return database_via_proxy


def blackhole_before(proxy, table: str):
    """An execute wrapper that black-holes the proxy just before the first
    statement naming `table` is sent: mid-request, mid-transaction.

    A build without the reply deadline would wait forever; the proxy resets
    the silent connections after HANG_S so such a build fails on the time
    taken instead of hanging the suite."""
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        if f'"{table}"' in sql and not seen:
            seen.append(sql)
            proxy.blackhole()
            rescue = threading.Timer(HANG_S, proxy.cut)
            rescue.daemon = True
            rescue.start()
        return execute(sql, params, many, context)

    return wrapper, seen


def test_a_request_whose_database_goes_silent_answers_503_at_the_reply_deadline(
    client, fan, short_reply_deadline
):
    proxy = short_reply_deadline
    client.force_login(fan)
    assert client.get("/account/").status_code == 200  # a live connection through the proxy

    wrapper, seen = blackhole_before(proxy, "accounts_user")
    started = time.monotonic()
    with connection.execute_wrapper(wrapper):
        page = client.get("/account/")
    elapsed = time.monotonic() - started
    assert seen, "the database went silent during the request"
    assert page.status_code == 503 and MESSAGE in page.content.decode()
    assert page["Retry-After"] == "30"
    assert REPLY_MS / 1000 - 0.1 < elapsed < REPLY_MS / 1000 + 2, elapsed

    started = time.monotonic()
    api = client.get("/api/v1/tracks/")  # a fresh connection into the black hole
    assert time.monotonic() - started < 4  # the fixture's 2 s connect timeout
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "database_unavailable"

    proxy.pass_()  # the database answers again
    close_old_connections()
    assert client.get("/account/").status_code == 200


def test_a_settlement_whose_database_goes_silent_rolls_back_and_settles_once_later(
    fan, stripe_plans, stripe_events, short_reply_deadline
):
    proxy = short_reply_deadline
    entitle(fan)
    stripe_events.skip()
    order = paid_order(fan, stripe_events)
    order_ref = f"order_{order.pk}"
    wrapper, seen = blackhole_before(proxy, "royalties_entry")

    started = time.monotonic()
    with connection.execute_wrapper(wrapper), pytest.raises(OperationalError):
        order_fulfil(order_id=order.pk)
    assert seen, "the database went silent inside the settlement transaction"
    assert time.monotonic() - started < REPLY_MS / 1000 + 3

    proxy.pass_()  # back: the silent connection is closed, its transaction rolled back
    close_old_connections()
    connection.close()
    assert not Settlement.objects.filter(order_ref=order_ref).exists()
    assert not LedgerTransaction.objects.filter(idempotency_key=f"settlement:{order_ref}").exists()
    assert Entry.objects.count() == 0

    # The sweep's task, twice (a duplicate delivery): one settlement.
    assert order_fulfil_task(order.pk) == "rendering"
    order_fulfil_task(order.pk)
    settlement = Settlement.objects.get(order_ref=order_ref)
    assert sum(line.amount_cents for line in settlement.lines.all()) == order.amount_cents
    assert LedgerTransaction.objects.filter(idempotency_key=f"settlement:{order_ref}").count() == 1
    assert ledger_verify() == []
    call_command("verify_ledger")


def test_the_reply_deadline_follows_the_statement_timeout(settings):
    from config.settings.base import DATABASE_REPLY_TIMEOUT_MS

    assert DATABASE_REPLY_TIMEOUT_MS == 35_000  # 30 s statement timeout + 5 s
    if connection.vendor != "postgresql":
        pytest.skip("the reply deadline watches PostgreSQL connections only (SQLite run)")
    connection.ensure_connection()
    from marketplace.db_deadline import reply_deadline

    assert reply_deadline in connection.execute_wrappers
