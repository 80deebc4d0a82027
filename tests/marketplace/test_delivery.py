"""Paid means delivered or refunded (issue 11, part 1), through the real SDK
and the sandbox: export offered only when deliverable, a paid remix that fails
for good or is cancelled by a revocation refunded in full with its settlement
reversed, and pending orders reconciled with Stripe when a webhook is lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from catalog.services import consent_revoke
from config.celery import app as celery_app
from core.errors import DomainError
from marketplace.audit.links import remix_trail_url
from marketplace.billing.fulfilment import order_fulfil
from marketplace.billing.services.orders import order_checkout_start
from marketplace.delivery import delivery_sweep_run, order_refund_undelivered
from marketplace.models import Order
from remixing.models import Remix, RemixNotice
from remixing.services import job_records
from royalties import ledger
from royalties.audit import ledger_verify
from royalties.models import Reversal, Settlement, Transfer
from royalties.services.reversals import reversal_execute
from royalties.services.sweeps import payouts_sweep
from royalties.stripe_client import stripe_client
from tests.marketplace.billing.factories import entitle, make_remix
from tests.marketplace.test_money_end_to_end import URLS, onboard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox_forgets_our_transfers(stripe_sandbox):
    """The sandbox outlives each test: wipe it after these, so the transfers
    made here do not show up in another test's reconciliation with Stripe."""
    yield
    stripe_sandbox.api("POST", "/_sandbox/reset", {})


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process, as a worker would, for this test."""
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


def pay(fan, stripe_events, **remix_kwargs) -> Order:
    remix = make_remix(owner=fan, **remix_kwargs)
    order = order_checkout_start(fan=fan, remix=remix, **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def settle_and_pay_out(order: Order):
    """Fulfil (settle + queue the render) and pay the onboarded artist."""
    assert order_fulfil(order_id=order.pk).outcome == "rendering"
    artist = order.remix.master_split_version.shares.get().party
    onboard(artist, artist.user)
    payouts_sweep(run_inline=True)
    transfer = Transfer.objects.get(status="succeeded")
    assert -ledger.balance("paid_out", artist.pk, "usd") == transfer.amount_cents > 0
    return artist, transfer


def assert_refunded_and_reversed(order: Order, stripe_events, artist, transfer) -> None:
    stripe_events.deliver()  # charge.refunded → settlement reversed
    for reversal in Reversal.objects.all():
        reversal_execute(reversal_id=reversal.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.refunded_cents == order.amount_cents == 299
    assert ledger.balance("paid_out", artist.pk, "usd") == 0
    assert ledger.balance("payable", artist.pk, "usd") == 0
    assert ledger_verify() == []
    # The sandbox outlives each test, so check this transfer rather than
    # reconciling every transfer it holds.
    at_stripe = stripe_client().v1.transfers.retrieve(transfer.stripe_transfer_id)
    assert at_stripe.amount_reversed == transfer.amount_cents


# --- Export only when deliverable ------------------------------------------------------


@pytest.mark.parametrize("stems", ["failed", "pending", "running", None])
def test_export_is_refused_while_the_remix_cannot_be_delivered(fan, client, stripe_plans, stems):
    # Found: separation failed (the model could not load), yet Export stayed
    # enabled and the fan paid $2.99 for a remix that could never be made.
    entitle(fan)
    remix = make_remix(owner=fan, stems=stems)
    with pytest.raises(DomainError) as refused:
        order_checkout_start(fan=fan, remix=remix, **URLS)
    assert refused.value.code == "not_deliverable"
    assert not Order.objects.exists()

    client.force_login(fan)
    page = client.post(f"/my/remixes/{remix.pk}/export/", follow=True).content.decode()
    assert "cannot be exported" in page
    assert not Order.objects.exists()
    studio = client.get(f"/studio/remixes/{remix.pk}/").content.decode()
    assert 'data-testid="export" disabled' in studio
    assert "cannot be exported" in studio


def test_export_is_offered_once_the_stems_are_ready(fan, client, stripe_plans):
    entitle(fan)
    remix = make_remix(owner=fan, stems="ready")
    client.force_login(fan)
    studio = client.get(f"/studio/remixes/{remix.pk}/").content.decode()
    assert 'data-testid="export">' in studio and "export-why" not in studio


# --- Failed or cancelled after payment: refunded in full -------------------------------


def test_a_paid_remix_that_fails_for_good_is_refunded_and_its_payouts_reversed(
    fan,
    auditor,
    client,
    stripe_plans,
    stripe_events,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    entitle(fan)
    stripe_events.skip()
    order = pay(fan, stripe_events)
    artist, transfer = settle_and_pay_out(order)
    remix = Remix.objects.get(pk=order.remix_id)
    assert remix.status == Remix.Status.QUEUED

    # The worker gives up for good (its retries are spent): remixing
    # announces it, marketplace refunds through the task.
    with django_capture_on_commit_callbacks(execute=True):
        assert job_records.remix_fail_by_id(remix.pk, "The renderer crashed on every try.")

    assert_refunded_and_reversed(order, stripe_events, artist, transfer)
    assert Settlement.objects.get(order_ref=f"order_{order.pk}").refunds.count() == 1
    client.force_login(fan)
    page = client.get(f"/my/remixes/{remix.pk}/").content.decode()
    assert "We could not make this remix." in page
    assert "was refunded in full" in page and "$2.99" in page
    assert "Failed 0%" not in page
    notice = RemixNotice.objects.filter(remix=remix).first()
    assert notice is not None and "We refunded $2.99" in notice.message

    # Each step is in the remix's audit trail: the failure, the refund to the
    # fan, the ledger's reversal of the settlement and of the transfer.
    client.force_login(auditor)
    trail = client.get(remix_trail_url(remix.pk)).content.decode()
    for step in (
        "The renderer crashed on every try.",
        "Refunded $2.99 to the fan",
        "Refund posted",
    ):
        assert step in trail, step
    assert transfer.stripe_transfer_id in trail


def test_a_revocation_after_settlement_cancels_and_refunds_the_paid_remix(
    fan, stripe_plans, stripe_events, eager_tasks, django_capture_on_commit_callbacks
):
    # Found: 2 of 20 exports were settled and paid out, then cancelled by the
    # artist's revocation, and never refunded ("Cancelled … Order #90 · Paid").
    entitle(fan)
    stripe_events.skip()
    order = pay(fan, stripe_events)
    artist, transfer = settle_and_pay_out(order)
    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(party=artist, actor=artist.user, reason="Changed my mind")
    remix = Remix.objects.get(pk=order.remix_id)
    assert remix.status == Remix.Status.CANCELLED
    assert_refunded_and_reversed(order, stripe_events, artist, transfer)
    assert "stopped before it was delivered" in order.refund_reason


def test_the_sweep_refunds_what_a_lost_refund_task_left_behind(fan, stripe_plans, stripe_events):
    entitle(fan)
    stripe_events.skip()
    order = pay(fan, stripe_events)
    order_fulfil(order_id=order.pk)
    # The failure is recorded but its refund task never runs (no worker).
    assert job_records.remix_fail_by_id(order.remix_id, "boom")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID

    counts = delivery_sweep_run()
    assert counts["refunded"] == 1
    stripe_events.deliver()
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert delivery_sweep_run()["refunded"] == 0  # nothing left, nothing twice
    assert ledger_verify() == []


def test_a_delivered_remix_is_never_refunded_by_the_undelivered_path(
    fan, stripe_plans, stripe_events
):
    entitle(fan)
    stripe_events.skip()
    order = pay(fan, stripe_events)
    Remix.objects.filter(pk=order.remix_id).update(status=Remix.Status.READY)
    assert order_refund_undelivered(remix_id=order.remix_id) is None
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_paid_remix_stuck_past_the_deadline_is_cancelled_and_refunded(
    fan, stripe_plans, stripe_events, settings
):
    entitle(fan)
    stripe_events.skip()
    order = pay(fan, stripe_events)
    order_fulfil(order_id=order.pk)
    Remix.objects.filter(pk=order.remix_id).update(
        status=Remix.Status.RENDERING,
        lease_owner="worker-1:1",
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert delivery_sweep_run()["gave_up"] == 0  # within the deadline: keep waiting
    later = timezone.now() + timedelta(minutes=settings.ORDER_DELIVERY_DEADLINE_MINUTES + 1)
    assert delivery_sweep_run(now=later)["gave_up"] == 1
    stripe_events.deliver()
    order.refresh_from_db()
    assert Remix.objects.get(pk=order.remix_id).status == Remix.Status.CANCELLED
    assert order.status == Order.Status.REFUNDED


# --- Pending orders reconciled with Stripe ---------------------------------------------


def _paid_without_webhook(fan, stripe_events) -> tuple[Order, list]:
    stripe_events.skip()
    remix = make_remix(owner=fan)
    order = order_checkout_start(fan=fan, remix=remix, **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    lost = stripe_events.new()
    stripe_events.skip()  # the webhooks are lost
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    return order, lost


def test_a_pending_order_paid_at_stripe_is_reconciled_by_the_sweep(
    fan, stripe_plans, stripe_events
):
    # Found: the sandbox was killed 2 s after 8 payments; Stripe shows every
    # session paid, but 4 orders stayed pending forever.
    entitle(fan)
    order, lost = _paid_without_webhook(fan, stripe_events)
    assert delivery_sweep_run()["reconciled_paid"] == 0  # too recent: the webhook may come
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert delivery_sweep_run()["reconciled_paid"] == 1
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.stripe_charge_id
    assert order.stripe_session_status == "complete/paid"
    assert order_fulfil(order_id=order.pk).outcome == "rendering"
    # The late webhooks change nothing.
    assert all(stripe_events.post(event).status_code == 200 for event in lost)
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_the_success_page_asks_stripe_instead_of_waiting_for_the_webhook(
    fan, client, stripe_plans, stripe_events
):
    entitle(fan)
    order, _lost = _paid_without_webhook(fan, stripe_events)
    client.force_login(fan)
    page = client.get(
        f"/my/remixes/{order.remix_id}/?session_id={order.stripe_checkout_session_id}"
    )
    assert page.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_lost_refund_event_is_replayed_into_the_ledger(fan, stripe_plans, stripe_events):
    """A refund made at Stripe (the Dashboard) whose webhook never arrived: the
    sweep lists the events we never stored and runs them through the pipeline."""
    entitle(fan)
    stripe_events.skip()
    order = pay(fan, stripe_events)
    order_fulfil(order_id=order.pk)
    settlement = Settlement.objects.get(order_ref=f"order_{order.pk}")
    stripe_events.sandbox.api(
        "POST", "/v1/refunds", {"charge": order.stripe_charge_id, "amount": 299}
    )
    lost = stripe_events.new()
    stripe_events.skip()  # lost
    assert settlement.refunds.count() == 0
    # Stripe's clock (the sandbox's, which other tests advance) dates events.
    stripe_now = datetime.fromtimestamp(max(e["created"] for e in lost), tz=UTC)
    assert delivery_sweep_run(now=stripe_now)["events_replayed"] == 0  # may still come
    later = stripe_now + timedelta(minutes=5)
    counts = delivery_sweep_run(now=later)
    assert counts["events_replayed"] >= 1
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert settlement.refunds.count() == 1
    assert ledger_verify() == []
    assert delivery_sweep_run(now=later)["events_replayed"] == 0
