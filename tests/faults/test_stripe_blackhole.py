"""Stripe black-holed through the TCP fault proxy: the connection is accepted
and nothing ever comes back (no reset). Every call ends at the client's
timeout (STRIPE_TIMEOUT_SECONDS x (STRIPE_MAX_NETWORK_RETRIES + 1), here
1 s x 2), nobody waits longer, nothing is lost or doubled, and the work is
done exactly once when Stripe answers again.

* Transfers: the payouts sweep gives up in bounded time, the transfer stays
  pending under its saved key; once Stripe is back one transfer exists, made
  with that key.
* Checkout completion: the webhook that says a checkout was paid needs the
  charge from Stripe: it answers 500 "retry later" in bounded time and is
  stored as failed; the fan coming back from Checkout gets their order's page
  ("We're confirming your payment") in bounded time. Once Stripe is back the
  redelivered webhook pays the order and it is settled exactly once.

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import pytest

from marketplace.billing.fulfilment import order_fulfil
from marketplace.billing.services.orders import order_checkout_start
from marketplace.models import Order, WebhookEvent
from marketplace.tasks import order_fulfil_task
from royalties.audit import ledger_verify, stripe_reconcile
from royalties.models import Settlement, Transfer
from royalties.services.sweeps import payouts_sweep
from tests.marketplace.billing.factories import entitle, make_remix
from tests.marketplace.test_money_end_to_end import URLS, onboard, paid_order

pytestmark = pytest.mark.django_db

TIMEOUT_S, RETRIES = 1, 1
# The SDK's calls and its backoff between them, plus a margin for a busy machine.
BOUND_S = TIMEOUT_S * (RETRIES + 1) + 2.5


@pytest.fixture
def stripe_blackhole(stripe_sandbox, fault_proxy, settings):
    """The app reaches the sandbox only through a FaultProxy, with short
    Stripe timeouts; the fan's browser still reaches the sandbox directly."""
    address = urlsplit(stripe_sandbox.url)
    proxy = fault_proxy(address.hostname, address.port)
    settings.STRIPE_API_BASE = f"http://{proxy.host}:{proxy.port}"
    settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT_S
    settings.STRIPE_MAX_NETWORK_RETRIES = RETRIES
    yield proxy
    stripe_sandbox.api("POST", "/_sandbox/reset", {})  # forget our transfers


HANG_S = 10


class Silence:
    """Black-holes the proxy; a build whose calls would wait forever gets a
    reset after HANG_S instead, so it fails on the time taken, not by
    hanging the suite."""

    def __init__(self, proxy):
        self.proxy = proxy
        proxy.blackhole()
        self.rescue = threading.Timer(HANG_S, proxy.drop)
        self.rescue.daemon = True
        self.rescue.start()

    def end(self) -> None:
        self.rescue.cancel()
        self.proxy.pass_()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_transfers_into_a_silent_stripe_end_at_the_timeout_and_are_made_once_later(
    fan, stripe_plans, stripe_events, stripe_blackhole
):
    entitle(fan)
    stripe_events.skip()
    order = paid_order(fan, stripe_events)
    artist = order.remix.master_split_version.shares.get().party
    onboard(artist, artist.user)
    assert order_fulfil(order_id=order.pk).outcome == "rendering"  # settlement posted

    silence = Silence(stripe_blackhole)
    result, elapsed = timed(lambda: payouts_sweep(run_inline=True))
    assert result["errors"] == 1
    assert TIMEOUT_S <= elapsed < BOUND_S, elapsed
    transfer = Transfer.objects.get()
    key = transfer.idempotency_key
    assert (transfer.status, transfer.attempts, transfer.stripe_transfer_id) == ("pending", 1, None)
    assert "APIConnectionError" in transfer.last_error or "timed out" in transfer.last_error

    silence.end()  # Stripe answers again
    assert payouts_sweep(run_inline=True, force=True)["errors"] == 0
    assert payouts_sweep(run_inline=True, force=True)["errors"] == 0  # nothing left to send
    transfer.refresh_from_db()
    assert (transfer.status, transfer.attempts, transfer.idempotency_key) == ("succeeded", 2, key)
    listed = stripe_events.sandbox.api(
        "GET", f"/v1/transfers?transfer_group={order.transfer_group}&limit=100"
    )
    assert [t["id"] for t in listed["data"]] == [transfer.stripe_transfer_id]
    created = [e for e in stripe_events.new() if e["type"] == "transfer.created"]
    assert [e["request"]["idempotency_key"] for e in created] == [key]
    assert ledger_verify() == [] and stripe_reconcile() == []


def test_checkout_completion_while_stripe_is_silent_is_bounded_and_settled_once_later(
    client, fan, stripe_plans, stripe_events, stripe_blackhole
):
    entitle(fan)
    stripe_events.skip()
    order = order_checkout_start(fan=fan, remix=make_remix(owner=fan), **URLS)
    stripe_events.sandbox.pay(order.checkout_url)  # the fan pays at Stripe
    completed = stripe_events.new(types={"checkout.session.completed"})
    assert len(completed) == 1
    silence = Silence(stripe_blackhole)

    # The webhook needs the charge from Stripe: it gives up in bounded time
    # and asks Stripe to send the event again.
    webhook, elapsed = timed(lambda: stripe_events.post(completed[0]))
    assert webhook.status_code == 500 and elapsed < BOUND_S, elapsed
    assert webhook.json() == {"error": "Could not process this event; retry later."}
    assert WebhookEvent.objects.get(stripe_event_id=completed[0]["id"]).status == "failed"

    # The fan comes back from Checkout: the order's page, in bounded time.
    client.force_login(fan)
    url = f"/billing/orders/return/?session_id={order.stripe_checkout_session_id}"
    back, elapsed = timed(lambda: client.get(url))
    assert back.status_code == 302 and elapsed < BOUND_S, elapsed
    page = client.get(back["Location"])
    assert page.status_code == 200
    assert "confirming your payment" in page.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.paid_at is None

    silence.end()  # Stripe answers again, and sends the event again
    assert stripe_events.post(completed[0]).status_code == 200
    assert stripe_events.post(completed[0]).status_code == 200  # and once more
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order_fulfil_task(order.pk) == "rendering"
    order_fulfil_task(order.pk)
    settlement = Settlement.objects.get()
    assert settlement.order_ref == f"order_{order.pk}"
    assert sum(line.amount_cents for line in settlement.lines.all()) == order.amount_cents
    assert ledger_verify() == []
