"""Stripe away, through the TCP fault proxy in front of the sandbox: calls
fail in bounded time, nothing is lost and nothing is doubled.

* Transfers: a settlement's transfers stay pending while Stripe is down, and
  while Stripe does the work but its answer is lost; once Stripe is back the
  sweep retries with the same idempotency key and exactly one transfer exists.
* Checkout completion: the fan pays while we cannot reach Stripe (and the
  webhook is lost); the order stays pending, then the sweep's reconcile finds
  it paid at Stripe and it is settled exactly once.

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from marketplace.billing.fulfilment import order_fulfil
from marketplace.billing.services.orders import order_checkout_start
from marketplace.delivery import delivery_sweep_run
from marketplace.models import Order
from marketplace.tasks import order_fulfil_task
from royalties.audit import ledger_verify, stripe_reconcile
from royalties.models import Settlement, Transfer
from royalties.services.sweeps import payouts_sweep
from tests.marketplace.billing.factories import entitle, make_remix
from tests.marketplace.test_money_end_to_end import URLS, onboard, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_via_proxy(stripe_sandbox, fault_proxy, settings):
    """The app reaches the sandbox only through a FaultProxy; the fan's
    browser (the hosted checkout page) still reaches it directly."""
    address = urlsplit(stripe_sandbox.url)
    proxy = fault_proxy(address.hostname, address.port)
    settings.STRIPE_API_BASE = f"http://{proxy.host}:{proxy.port}"
    yield proxy
    stripe_sandbox.api("POST", "/_sandbox/reset", {})  # forget our transfers


def transfers_at_stripe(sandbox, order: Order) -> list[dict]:
    listed = sandbox.api("GET", f"/v1/transfers?transfer_group={order.transfer_group}&limit=100")
    return listed["data"]


def test_transfers_while_stripe_is_down_are_retried_once_it_is_back_and_never_doubled(
    fan, stripe_plans, stripe_events, stripe_via_proxy
):
    entitle(fan)
    stripe_events.skip()
    order = paid_order(fan, stripe_events)
    artist = order.remix.master_split_version.shares.get().party
    onboard(artist, artist.user)
    assert order_fulfil(order_id=order.pk).outcome == "rendering"  # settlement posted

    stripe_via_proxy.drop()  # Stripe unreachable
    started = time.monotonic()
    assert payouts_sweep(run_inline=True)["errors"] == 1
    assert time.monotonic() - started < 10  # the SDK's bounded retries, no hang
    transfer = Transfer.objects.get()
    key = transfer.idempotency_key
    assert (transfer.status, transfer.attempts, transfer.stripe_transfer_id) == ("pending", 1, None)
    assert transfer.next_attempt_at > timezone.now()  # backing off
    assert transfers_at_stripe(stripe_events.sandbox, order) == []

    stripe_via_proxy.lose_replies()  # Stripe makes the transfer; we never hear
    assert payouts_sweep(run_inline=True, force=True)["errors"] == 1
    made = transfers_at_stripe(stripe_events.sandbox, order)
    assert len(made) == 1
    transfer.refresh_from_db()
    assert (transfer.status, transfer.attempts, transfer.idempotency_key) == ("pending", 2, key)

    stripe_via_proxy.pass_()  # Stripe is back
    assert payouts_sweep(run_inline=True, force=True)["errors"] == 0
    assert payouts_sweep(run_inline=True, force=True)["errors"] == 0  # nothing left to send
    transfer.refresh_from_db()
    assert transfer.status == "succeeded"
    assert transfer.stripe_transfer_id == made[0]["id"]
    assert [t["id"] for t in transfers_at_stripe(stripe_events.sandbox, order)] == [made[0]["id"]]
    assert Transfer.objects.count() == 1
    assert ledger_verify() == [] and stripe_reconcile() == []


def test_a_checkout_completed_while_stripe_is_down_is_reconciled_and_settled_once(
    client, fan, stripe_plans, stripe_events, stripe_via_proxy
):
    entitle(fan)
    stripe_events.skip()
    order = order_checkout_start(fan=fan, remix=make_remix(owner=fan), **URLS)
    stripe_via_proxy.drop()
    stripe_events.sandbox.pay(order.checkout_url)  # paid at Stripe; the webhook never comes

    client.force_login(fan)
    started = time.monotonic()
    back = client.get(f"/billing/orders/return/?session_id={order.stripe_checkout_session_id}")
    assert time.monotonic() - started < 10
    assert back.status_code == 302  # to the order's page, which keeps waiting
    status = client.get(back["Location"], HTTP_ACCEPT="application/json").json()
    assert (status["status"], status["paid"]) == ("pending", False)

    later = timezone.now() + timedelta(minutes=10)  # past ORDER_RECONCILE_AFTER_SECONDS
    assert delivery_sweep_run(now=later)["reconcile_errors"] >= 1
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING

    stripe_via_proxy.pass_()
    assert delivery_sweep_run(now=later)["reconciled_paid"] == 1
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    # The fulfilment task the payment queued, a duplicate of it, and the
    # webhook arriving late after all: one settlement.
    assert order_fulfil_task(order.pk) == "rendering"
    order_fulfil_task(order.pk)
    stripe_events.deliver()
    settlement = Settlement.objects.get()
    assert settlement.order_ref == f"order_{order.pk}"
    assert sum(line.amount_cents for line in settlement.lines.all()) == order.amount_cents
    assert ledger_verify() == []
