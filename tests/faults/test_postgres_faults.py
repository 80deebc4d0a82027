"""PostgreSQL going away under the app, through the TCP fault proxy: no
request hangs (connect and statement timeouts), a request answers 503 in
plain words within seconds, and a settlement cut mid-transaction is rolled
back whole and settled exactly once when the fulfilment sweep retries it.

Needs PostgreSQL (skips on SQLite: there is no connection to cut).
"""

from __future__ import annotations

import time

import psycopg
import pytest
from django.core.management import call_command
from django.db import OperationalError, close_old_connections, connection

from config.settings.env import postgres_timeouts
from marketplace.billing.fulfilment import order_fulfil, order_list_awaiting_fulfilment
from marketplace.tasks import order_fulfil_task
from royalties.audit import ledger_verify
from royalties.models import Entry, LedgerTransaction, Settlement, SettlementLine
from tests.marketplace.billing.factories import entitle
from tests.marketplace.test_money_end_to_end import paid_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(client):
    """Answers as a server gives them: a failure inside a middleware reaches
    handler500's response instead of being raised into the test."""
    client.raise_request_exception = False
    return client


MESSAGE = "Clearmix can&#x27;t reach its database right now."


def test_a_request_while_postgres_is_cut_answers_503_within_seconds(
    client, fan, database_via_proxy
):
    client.force_login(fan)
    assert client.get("/account/").status_code == 200  # a live connection through the proxy
    database_via_proxy.drop()  # open connection reset, new ones refused

    started = time.monotonic()
    page = client.get("/account/")
    api = client.get("/api/v1/tracks/")
    assert time.monotonic() - started < 3
    assert page.status_code == 503 and MESSAGE in page.content.decode()
    assert page["Retry-After"] == "30"
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "database_unavailable"

    database_via_proxy.pass_()
    close_old_connections()  # what the server does between requests
    assert client.get("/account/").status_code == 200


def test_a_blackholed_postgres_answers_503_after_the_connect_timeout(client, database_via_proxy):
    connection.close()
    database_via_proxy.blackhole()  # accepts, never answers
    started = time.monotonic()
    response = client.get("/api/v1/tracks/")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert 1.5 < elapsed < 6, elapsed  # the 2 s connect timeout, not forever


def test_a_statement_that_would_hang_ends_at_the_statement_timeout(client, fan, database_via_proxy):
    client.force_login(fan)
    connection.close()
    # The settings' own helper, with a short statement timeout for the test.
    connection.settings_dict["OPTIONS"].update(
        postgres_timeouts(connect_seconds=2, statement_ms=500)
    )
    params = connection.get_connection_params()
    params.update(host="127.0.0.1", port=connection.settings_dict["PORT"])
    with psycopg.connect(**{k: v for k, v in params.items() if k != "options"}) as holder:
        # Another session holds the session table: the page's lookup would wait forever.
        holder.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = client.get("/account/")
        elapsed = time.monotonic() - started
        holder.rollback()
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()
    assert 0.4 < elapsed < 3, elapsed


def _cut_on_first_ledger_entry(proxy):
    """An execute wrapper that cuts the connection just before the ledger
    legs are written: the settlement row and its lines are already sent."""
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        if 'INSERT INTO "royalties_entry"' in sql and not seen:
            seen.append(sql)
            proxy.cut()
        return execute(sql, params, many, context)

    return wrapper, seen


def test_a_settlement_cut_mid_transaction_rolls_back_and_settles_once_later(
    fan, stripe_plans, stripe_events, database_via_proxy
):
    entitle(fan)
    stripe_events.skip()
    order = paid_order(fan, stripe_events)
    order_ref = f"order_{order.pk}"
    wrapper, seen = _cut_on_first_ledger_entry(database_via_proxy)

    with connection.execute_wrapper(wrapper), pytest.raises(OperationalError):
        order_fulfil(order_id=order.pk)
    assert seen, "the cut happened inside the settlement transaction"

    close_old_connections()
    connection.close()
    # Rolled back whole: no settlement, no lines, no ledger transaction.
    assert not Settlement.objects.filter(order_ref=order_ref).exists()
    assert not SettlementLine.objects.filter(settlement__order_ref=order_ref).exists()
    assert not LedgerTransaction.objects.filter(idempotency_key=f"settlement:{order_ref}").exists()
    assert Entry.objects.count() == 0

    # The beat sweep finds the paid, unsettled order; its task runs twice
    # (the sweep ran again before the first finished): one settlement.
    assert [o.pk for o in order_list_awaiting_fulfilment()] == [order.pk]
    assert order_fulfil_task(order.pk) == "rendering"
    order_fulfil_task(order.pk)
    assert order_list_awaiting_fulfilment() == []
    settlement = Settlement.objects.get(order_ref=order_ref)
    assert sum(line.amount_cents for line in settlement.lines.all()) == order.amount_cents == 299
    assert LedgerTransaction.objects.filter(idempotency_key=f"settlement:{order_ref}").count() == 1
    assert ledger_verify() == []
    call_command("verify_ledger")
