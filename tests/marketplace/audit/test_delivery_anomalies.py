"""The auditor sees every failure class of "paid means delivered or refunded"
(issue 11, part 7): each seeded fault shows up with its evidence, and goes
away once it is mended."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from marketplace.audit import anomalies
from marketplace.audit.links import record_url, remix_trail_url
from marketplace.models import Order
from remixing.models import Remix, StemSet
from royalties.services.refunds import refund_post

from .conftest import make_paid_order, make_remix

HOURS_AGO = timezone.now() - timedelta(hours=3)


def _counts():
    return {kind: len(items) for kind, items in anomalies.anomalies_all().items() if items}


def _remix_in(world, status: str, *, title: str, quiet_since=None) -> Remix:
    remix = make_remix(world.fan, world.recording, events=[world.grant], title=title)
    lease = {}
    if status == Remix.Status.RENDERING:  # the database insists a render holds a lease
        lease = {"lease_owner": "worker-1:1", "lease_expires_at": timezone.now()}
    Remix.objects.filter(pk=remix.pk).update(
        status=status, published_at=None, updated_at=quiet_since or timezone.now(), **lease
    )
    remix.refresh_from_db()
    return remix


def test_paid_and_never_delivered(world, auditor, client):
    stuck = _remix_in(world, Remix.Status.RENDERING, title="Stuck", quiet_since=timezone.now())
    order = make_paid_order(world.fan, stuck, paid_at=HOURS_AGO)
    fresh = _remix_in(world, Remix.Status.QUEUED, title="Just paid")
    make_paid_order(world.fan, fresh, paid_at=timezone.now())  # within the deadline
    # Never settled either: both promises broken, both shown.
    assert _counts() == {"paid_not_delivered": 1, "paid_without_settlement": 1}
    (item,) = anomalies.anomalies_all()["paid_not_delivered"]
    assert item.remix_id == stuck.pk
    assert {record_url(order), remix_trail_url(stuck.pk)} <= {e.url for e in item.evidence}
    client.force_login(auditor)
    page = client.get(reverse("marketplace:audit_anomalies", args=["paid_not_delivered"]))
    assert f"Order #{order.pk}" in page.content.decode()


def test_failed_or_cancelled_but_not_refunded(world):
    failed = _remix_in(world, Remix.Status.FAILED, title="Failed", quiet_since=HOURS_AGO)
    order = make_paid_order(world.fan, failed, paid_at=HOURS_AGO)
    cancelled = _remix_in(world, Remix.Status.CANCELLED, title="Cancelled", quiet_since=HOURS_AGO)
    make_paid_order(world.fan, cancelled, paid_at=HOURS_AGO)
    assert _counts() == {"undelivered_not_refunded": 2, "paid_without_settlement": 2}
    # Refunded in full: the promise is kept, the anomaly goes.
    Order.objects.filter(pk=order.pk).update(
        refunded_cents=order.amount_cents, status=Order.Status.REFUNDED
    )
    assert _counts() == {"undelivered_not_refunded": 1, "paid_without_settlement": 1}


def test_pending_order_that_stripe_says_is_paid(world):
    remix = _remix_in(world, Remix.Status.DRAFT, title="Lost webhook")
    order = Order.objects.create(
        fan=world.fan,
        remix=remix,
        amount_cents=299,
        currency="usd",
        transfer_group=f"remix_{remix.pk}",
        stripe_checkout_session_id="cs_test_lost",
        stripe_checked_at=timezone.now(),
        stripe_session_status="complete/paid",
    )
    assert _counts() == {"pending_paid_at_stripe": 1}
    (item,) = anomalies.anomalies_all()["pending_paid_at_stripe"]
    assert "cs_test_lost" in item.detail and record_url(order) in [e.url for e in item.evidence]
    # Open and recently checked: not an anomaly (the fan may still pay).
    Order.objects.filter(pk=order.pk).update(stripe_session_status="open/unpaid")
    assert _counts() == {}
    # Never asked about, long after it should have been.
    Order.objects.filter(pk=order.pk).update(stripe_checked_at=None, created_at=HOURS_AGO)
    assert _counts() == {"pending_paid_at_stripe": 1}


def test_refund_that_the_ledger_never_reversed(world):
    order = world.order
    Order.objects.filter(pk=order.pk).update(
        refunded_cents=order.amount_cents,
        status=Order.Status.REFUNDED,
        refunded_at=HOURS_AGO,
        updated_at=HOURS_AGO,
    )
    assert _counts() == {"refund_without_reversal": 1}
    (item,) = anomalies.anomalies_all()["refund_without_reversal"]
    assert "ledger reversed $0.00" in item.detail
    refund_post(
        refund_id="re_test_1", amount_cents=order.amount_cents, charge_id=order.stripe_charge_id
    )
    assert "refund_without_reversal" not in _counts()


def test_jobs_past_their_lease(world):
    remix = _remix_in(world, Remix.Status.RENDERING, title="Killed at 71%")
    Remix.objects.filter(pk=remix.pk).update(
        progress=71, lease_owner="worker-1:4242", lease_expires_at=HOURS_AGO
    )
    StemSet.objects.create(
        audio_sha256="f" * 64,
        model_name="htdemucs",
        recording=world.recording,
        status=StemSet.Status.RUNNING,
        attempts=1,
        lease_owner="gpu-1:77",
        lease_expires_at=HOURS_AGO,
    )
    found = anomalies.anomalies_all()
    assert len(found["job_past_lease"]) == 2
    assert {item.subject.split(" ")[0] for item in found["job_past_lease"]} == {"Render", "Stem"}
    assert "worker-1:4242" in found["job_past_lease"][0].detail
    # A live lease is not an anomaly.
    Remix.objects.filter(pk=remix.pk).update(lease_expires_at=timezone.now() + timedelta(minutes=5))
    assert len(anomalies.anomalies_all()["job_past_lease"]) == 1
