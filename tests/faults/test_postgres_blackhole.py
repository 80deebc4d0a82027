"""PostgreSQL black-holed mid-conversation: the fault proxy keeps the
connection open and stops forwarding (no reset), so neither the connect
timeout nor the server's statement timeout can help (the server never sees
the statement). The client's reply deadline (DATABASE_REPLY_TIMEOUT_MS,
marketplace.db_deadline) ends the wait: a request answers 503 in plain words
within about that deadline, a settlement is rolled back whole and settled
exactly once when the database is back.

The same holds for the round trips no execute wrapper sees: a COMMIT (whether
the server never got it or committed and went silent: the caller is never
told it succeeded, and the retry settles once), a ROLLBACK, and the fetches
of a server-side cursor (`.iterator()`), in code and in a request.

Needs PostgreSQL (skips on SQLite: there is no connection to black-hole).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management import call_command
from django.db import (
    DEFAULT_DB_ALIAS,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    transaction,
)

from catalog.models import Party
from marketplace.billing.fulfilment import order_fulfil
from marketplace.tasks import order_fulfil_task
from royalties.audit import ledger_verify
from royalties.models import Entry, LedgerTransaction, Settlement
from tests.catalog.factories import PartyFactory, artist_user
from tests.marketplace.billing.factories import entitle
from tests.marketplace.test_money_end_to_end import paid_order

pytestmark = pytest.mark.django_db(transaction=True)

REPLY_MS = 1000
CONNECT_S = 2  # the fixture's connect timeout: a reconnect into the silence ends there
HANG_S = 8
# The round trips below end by this time with the deadline (the deadline, a
# reconnect into the silence, slack for a loaded machine); without it they
# wait for the proxy's reset at HANG_S.
CUT_OFF_S = REPLY_MS / 1000 + CONNECT_S + 3
assert CUT_OFF_S < HANG_S
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


# --- Round trips that no execute wrapper sees: COMMIT, ROLLBACK, cursor fetches


def silence_at(proxy, mode: str) -> None:
    """The proxy goes silent now: `blackhole` (nothing more reaches the
    server) or `hold_replies` (the server does the work, its answer is lost
    in silence); reset after HANG_S so a build without the deadline fails on
    time instead of hanging."""
    getattr(proxy, mode)()
    rescue = threading.Timer(HANG_S, proxy.cut)
    rescue.daemon = True
    rescue.start()


def silent_on_transaction_end(proxy, monkeypatch, name: str, mode: str, armed):
    """Django's connection goes silent as its next COMMIT or ROLLBACK (`name`:
    "_commit" or "_rollback") is sent, once armed() says so. Wraps whatever
    the connection calls today, so the deadline (if any) stays inside."""
    connection.ensure_connection()
    # The wrapper itself, not django.db.connection (a proxy without a
    # __dict__ of its own, which monkeypatch would restore by deleting).
    wrapper = connections[DEFAULT_DB_ALIAS]
    sent = getattr(wrapper, name)
    fired: list[str] = []

    def going_silent():
        if armed() and not fired:
            fired.append(name)
            silence_at(proxy, mode)
        return sent()

    monkeypatch.setattr(wrapper, name, going_silent)
    return fired


@pytest.mark.parametrize("mode", ["blackhole", "hold_replies"])
def test_a_settlement_whose_commit_goes_unanswered_fails_and_settles_once_later(
    fan, stripe_plans, stripe_events, short_reply_deadline, monkeypatch, mode
):
    """blackhole: the server never gets the COMMIT and rolls back. hold_replies:
    the server commits and its answer is lost. Either way the caller is not
    told the settlement succeeded, and the retry settles exactly once."""
    proxy = short_reply_deadline
    entitle(fan)
    stripe_events.skip()
    order = paid_order(fan, stripe_events)
    order_ref = f"order_{order.pk}"
    entries_written: list[str] = []

    def note_entries(execute, sql, params, many, context):
        if '"royalties_entry"' in sql and sql.lstrip().upper().startswith("INSERT"):
            entries_written.append(sql)
        return execute(sql, params, many, context)

    fired = silent_on_transaction_end(
        proxy, monkeypatch, "_commit", mode, armed=lambda: bool(entries_written)
    )
    started = time.monotonic()
    with connection.execute_wrapper(note_entries), pytest.raises(OperationalError):
        order_fulfil(order_id=order.pk)
    assert fired == ["_commit"], "the settlement's COMMIT went unanswered"
    assert time.monotonic() - started < CUT_OFF_S

    monkeypatch.undo()
    # The connection the app gave up on is reset before the path heals: in
    # blackhole mode the proxy still holds its COMMIT, which healing would
    # deliver late (an outcome as unknown as the other, but racing the check).
    proxy.cut()
    proxy.pass_()
    close_old_connections()
    connection.close()
    kept = Settlement.objects.filter(order_ref=order_ref).count()
    assert kept == (1 if mode == "hold_replies" else 0)  # what the server did

    assert order_fulfil_task(order.pk) == "rendering"
    order_fulfil_task(order.pk)
    settlement = Settlement.objects.get(order_ref=order_ref)
    assert sum(line.amount_cents for line in settlement.lines.all()) == order.amount_cents
    assert LedgerTransaction.objects.filter(idempotency_key=f"settlement:{order_ref}").count() == 1
    assert ledger_verify() == []
    call_command("verify_ledger")


def test_a_rollback_that_goes_unanswered_ends_at_the_reply_deadline(
    short_reply_deadline, monkeypatch
):
    proxy = short_reply_deadline
    fired = silent_on_transaction_end(proxy, monkeypatch, "_rollback", "blackhole", lambda: True)

    class Refused(Exception):
        pass

    started = time.monotonic()
    # The refusal, or (when atomic() reconnects to restore autocommit, into
    # the same silence) the connect timeout's OperationalError.
    with pytest.raises((Refused, OperationalError)), transaction.atomic():
        PartyFactory(name="Never Kept")
        raise Refused
    elapsed = time.monotonic() - started
    assert fired == ["_rollback"]
    assert elapsed < CUT_OFF_S, elapsed

    monkeypatch.undo()
    proxy.pass_()
    close_old_connections()
    connection.close()
    assert not Party.objects.filter(name="Never Kept").exists()


def blackhole_after(proxy, table: str):
    """An execute wrapper that black-holes the proxy just after the first
    statement naming `table` has its reply: for a server-side cursor, after
    DECLARE, so the fetches that follow go unanswered."""
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if f'"{table}"' in sql and not seen:
            seen.append(sql)
            silence_at(proxy, "blackhole")
        return result

    return wrapper, seen


def test_a_cursor_fetch_that_goes_unanswered_ends_at_the_reply_deadline(short_reply_deadline):
    proxy = short_reply_deadline
    for number in range(5):
        PartyFactory(name=f"Iterated {number}")
    wrapper, seen = blackhole_after(proxy, "catalog_party")

    started = time.monotonic()
    with connection.execute_wrapper(wrapper), pytest.raises(OperationalError):
        with transaction.atomic():
            list(Party.objects.order_by("pk").iterator(chunk_size=2))
    elapsed = time.monotonic() - started
    assert seen, "the cursor was declared before the database went silent"
    assert elapsed < CUT_OFF_S, elapsed


def test_a_streamed_statement_whose_database_goes_silent_answers_503(client, short_reply_deadline):
    """The payout statement reads its entries through `.iterator()` (a
    server-side cursor on PostgreSQL): a fetch left unanswered is a 503."""
    proxy = short_reply_deadline
    user, party = artist_user("Statement Artist")
    client.force_login(user)
    url = f"/payouts/party/{party.pk}/statement.csv"
    assert client.get(url).status_code == 200

    wrapper, seen = blackhole_after(proxy, "royalties_entry")
    started = time.monotonic()
    with connection.execute_wrapper(wrapper):
        page = client.get(url)
    elapsed = time.monotonic() - started
    assert seen, "the statement's cursor was declared before the database went silent"
    assert page.status_code == 503 and MESSAGE in page.content.decode()
    assert elapsed < CUT_OFF_S, elapsed
