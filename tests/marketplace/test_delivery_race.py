"""Revocation racing payment (issue 11): exports of one track are fulfilled
concurrently while its artist revokes consent. Whatever the interleaving, every
paid order ends refunded in full, every settlement reversed to the cent, and
the audit shows nothing left over."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from catalog.services import consent_revoke
from config.celery import app as celery_app
from marketplace.audit.anomalies import anomalies_all
from marketplace.billing.fulfilment import order_fulfil
from marketplace.billing.services.orders import order_checkout_start
from marketplace.delivery import delivery_sweep_run
from marketplace.models import Order
from remixing import job_runner
from remixing.models import Remix
from royalties.audit import ledger_verify
from royalties.models import Settlement
from tests.catalog.factories import remixable_recording
from tests.marketplace.billing.factories import entitle
from tests.marketplace.test_money_end_to_end import URLS

pytestmark = pytest.mark.django_db(transaction=True)

EXPORTS = 8


@pytest.fixture
def eager_tasks():
    """Tasks run in-process once switched on (as a worker would run them)."""
    try:
        yield celery_app.conf
    finally:
        celery_app.conf.task_always_eager = False


def _paid_orders(fan, recording, stripe_events) -> list[Order]:
    from catalog.selectors import recording_remixability
    from remixing.models import StemSet

    verdict = recording_remixability(recording=recording)
    stem_set = StemSet.objects.create(
        audio_sha256="a" * 64, model_name="htdemucs", recording=recording, status="ready"
    )
    orders = []
    for n in range(EXPORTS):
        remix = Remix.objects.create(
            fan=fan,
            recording=recording,
            title=f"Export {n}",
            recipe={"version": 1},
            stem_set=stem_set,
            master_split_version_id=verdict.master_split_version_id,
            publishing_split_version_id=verdict.publishing_split_version_id,
        )
        remix.consent_events.set(verdict.consent_event_ids)
        order = order_checkout_start(fan=fan, remix=remix, **URLS)
        stripe_events.sandbox.pay(order.checkout_url)
        orders.append(order)
    stripe_events.deliver()
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.PAID
    return orders


def _race(orders, artist) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(orders) + 1)

    def run(fn):
        try:
            start.wait()
            fn()
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=run, args=(lambda o=o: order_fulfil(order_id=o.pk),))
        for o in orders
    ]
    threads.append(
        threading.Thread(
            target=run,
            args=(lambda: consent_revoke(party=artist, actor=artist.user, reason="Race"),),
        )
    )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_exports_paid_while_the_artist_revokes_all_end_refunded(
    fan, stripe_plans, stripe_events, eager_tasks
):
    entitle(fan)
    stripe_events.skip()
    recording, artist = remixable_recording()[:2]
    orders = _paid_orders(fan, recording, stripe_events)
    # From here the refund tasks run in the thread that queued them.
    eager_tasks.task_always_eager = True
    assert _race(orders, artist) == []

    # What a worker does next with any render queued before the revocation
    # committed: its claim re-checks consent and cancels (which refunds).
    for remix_id in Remix.objects.filter(status__in=Remix.ACTIVE_STATUSES).values_list(
        "pk", flat=True
    ):
        job_runner.render_execute(remix_id)
    assert delivery_sweep_run()["refunded"] == 0  # the backstop finds nothing left to do
    stripe_events.deliver()  # charge.refunded for every order

    for order in orders:
        order.refresh_from_db()
        assert (order.status, order.refunded_cents) == (Order.Status.REFUNDED, 299), order.pk
    for settlement in Settlement.objects.all():
        assert sum(r.amount_cents for r in settlement.refunds.all()) == settlement.gross_cents
    assert ledger_verify() == []
    found = anomalies_all()
    assert found["undelivered_not_refunded"] == [] and found["refund_without_reversal"] == []
