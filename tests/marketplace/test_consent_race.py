"""Consent races (issue 14, part 3): revocations and takedowns fired while
remixes are being created, checked out and paid for, fulfilled, rendered (the
real render path, from official stems) and published, round after round with
seeded random timing (RACE_SEED, RACE_ROUNDS to explore more).

Each round gives one fresh track four remixes at the stages below, and starts
six threads at random offsets: one per remix, walking it through its next
door, and one withdrawing the track (the artist revokes, or staff take it
down). Tasks run in the thread that queued them, as a worker would. Then a
worker picks up whatever is still queued, and the delivery sweep runs.

A fifth, queued remix is the straggler: a worker claims its render in the
instant between the withdrawal's commit and the announcement that cancels
queued jobs (an on_commit hook registered before the withdrawal). Only the
claim's own re-check stands in that gap, and it must cancel.

What must hold, with `withdrawn` the moment the withdrawal had committed
(taken after it returned, so any door that read the catalog later saw it):

* no door passed after it: no remix created, no checkout opened, no render
  started or finished, nothing published;
* every paid order either got its remix rendered before it, or is refunded in
  full (and, once Stripe's refund events are in, its settlement reversed to
  the cent);
* nothing is left published or in flight, and the ledger and the auditor's
  checks are clean.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from catalog.services import consent_revoke
from catalog.services.takedowns import takedown_place
from config.celery import app as celery_app
from core.errors import DomainError
from marketplace.audit.anomalies import anomalies_all
from marketplace.billing.fulfilment import order_fulfil
from marketplace.billing.reconcile import order_reconcile_on_return
from marketplace.billing.services.orders import order_checkout_start
from marketplace.delivery import delivery_sweep_run
from marketplace.models import Order
from remixing import job_runner
from remixing.models import Remix, RemixEvent
from remixing.services import remix_create, remix_publish
from royalties.audit import ledger_verify
from royalties.models import Settlement
from tests.catalog.factories import staff_user
from tests.marketplace.billing.factories import entitle
from tests.marketplace.test_money_end_to_end import URLS
from tests.remixing import conftest as remixing_fixtures

pytestmark = pytest.mark.django_db(transaction=True)

make_recording = remixing_fixtures.make_recording  # short real audio, official stems

ROUNDS = int(os.environ.get("RACE_ROUNDS", "10"))
SEED = int(os.environ.get("RACE_SEED", "1403"))
MAX_OFFSET_S = 0.4
DOORS = (Remix.Status.RENDERING, Remix.Status.PUBLISHED)


@pytest.fixture
def worker_inline(settings, tmp_path):
    """Tasks run where they are queued; media in a folder of this test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


@dataclass
class Round:
    number: int
    recording: object
    artist: object
    fan: object
    remixes: dict[str, Remix] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    withdrawn: object = None
    gap_claim: str = ""
    doors: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


# --- Stages: a remix brought to the door it will race through ---------------------------


def _paid(stage: Round, name: str, sandbox) -> Order:
    """Checkout and pay; the success page tells us (and queues fulfilment)."""
    remix = remix_create(fan=stage.fan, recording=stage.recording)
    order = order_checkout_start(fan=stage.fan, remix=remix, **URLS)
    assert sandbox.pay(order.checkout_url)
    order = order_reconcile_on_return(order=order)
    assert order.status == Order.Status.PAID
    stage.remixes[name], stage.orders[name] = remix, order
    return order


def set_the_stage(stage: Round, sandbox) -> None:
    celery_app.conf.task_always_eager = True
    _paid(stage, "publish", sandbox)  # paid, fulfilled and rendered: ready to publish
    assert Remix.objects.get(pk=stage.remixes["publish"].pk).status == Remix.Status.READY
    stage.remixes["checkout"] = remix_create(fan=stage.fan, recording=stage.recording)
    celery_app.conf.task_always_eager = False  # from here, tasks wait for a worker
    _paid(stage, "fulfil", sandbox)  # paid, its fulfilment task not yet run
    for name in ("render", "straggler"):  # paid, fulfilled, queued for rendering
        order_fulfil(order_id=_paid(stage, name, sandbox).pk)
        assert Remix.objects.get(pk=stage.remixes[name].pk).status == Remix.Status.QUEUED
    celery_app.conf.task_always_eager = True


def actors(stage: Round, sandbox, staff) -> dict[str, Callable[[], object]]:
    def checkout_and_pay():
        order = order_checkout_start(fan=stage.fan, remix=stage.remixes["checkout"], **URLS)
        stage.orders["checkout"] = order
        sandbox.pay(order.checkout_url)
        return order_reconcile_on_return(order=order)

    def claim_in_the_gap():
        # A worker takes the straggler's render in the instant after the
        # withdrawal committed and before its announcement cancels queued jobs.
        stage.gap_claim = job_runner.render_execute(stage.remixes["straggler"].pk)

    def withdraw():
        with transaction.atomic():
            transaction.on_commit(claim_in_the_gap)  # runs before the announcement
            if stage.number % 2:
                takedown_place(recording=stage.recording, actor=staff, reason="Rights dispute")
            else:
                party = stage.recording.artist_party
                consent_revoke(party=party, actor=stage.artist, reason="Race")
        stage.withdrawn = timezone.now()

    return {
        "create": lambda: remix_create(fan=stage.fan, recording=stage.recording),
        "checkout": checkout_and_pay,
        "fulfil": lambda: order_fulfil(order_id=stage.orders["fulfil"].pk),
        "render": lambda: job_runner.render_execute(stage.remixes["render"].pk),
        "publish": lambda: remix_publish(
            remix=stage.remixes["publish"], fan=stage.fan, title="Race"
        ),
        "withdraw": withdraw,
    }


def race(stage: Round, play: dict[str, Callable[[], object]], rng: random.Random) -> None:
    """Every actor in its own thread, each after its own seeded offset. A
    door that refuses (DomainError) is the right answer, not an error."""
    offsets = {name: rng.uniform(0, MAX_OFFSET_S) for name in play}
    start = threading.Barrier(len(play))

    def run(name: str) -> None:
        try:
            start.wait()
            time.sleep(offsets[name])
            play[name]()
            stage.doors[name] = "passed"
        except DomainError:
            stage.doors[name] = "refused"
        except Exception as exc:  # reported by the test
            stage.errors.append(f"{name}: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in play]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def worker_picks_up(stage: Round) -> None:
    """Whatever is still queued or waiting reaches a worker, then the sweep."""
    for remix in Remix.objects.filter(recording=stage.recording, status__in=Remix.ACTIVE_STATUSES):
        job_runner.render_execute(remix.pk)
    delivery_sweep_run()


# --- What must hold ------------------------------------------------------------------


def doors_passed_after_withdrawal(stage: Round) -> list[str]:
    after = {"created_at__gt": stage.withdrawn}
    passed = [
        f"remix #{r.pk} created" for r in Remix.objects.filter(recording=stage.recording, **after)
    ]
    passed += [
        f"order #{o.pk} checkout opened"
        for o in Order.objects.filter(remix__recording=stage.recording, **after)
    ]
    passed += [
        f"remix #{e.remix_id} {e.from_status} → {e.to_status}"
        for e in RemixEvent.objects.filter(remix__recording=stage.recording, **after)
        if e.to_status in DOORS
        or (e.to_status == Remix.Status.READY and e.from_status == Remix.Status.RENDERING)
    ]
    return passed


def rendered_before(remix_id: int, moment) -> bool:
    return RemixEvent.objects.filter(
        remix_id=remix_id,
        from_status=Remix.Status.RENDERING,
        to_status=Remix.Status.READY,
        created_at__lte=moment,
    ).exists()


def kept_without_delivery(stage: Round) -> list[str]:
    kept = []
    for order in Order.objects.filter(remix__recording=stage.recording, paid_at__isnull=False):
        if rendered_before(order.remix_id, stage.withdrawn):
            continue
        if (order.status, order.refunded_cents) != (Order.Status.REFUNDED, order.amount_cents):
            kept.append(f"order #{order.pk} {order.status}, refunded {order.refunded_cents}")
    return kept


def test_withdrawals_racing_every_door_let_nothing_through(
    fan, make_recording, stripe_plans, stripe_events, worker_inline
):
    entitle(fan)
    staff = staff_user()
    stripe_events.skip()
    rng = random.Random(SEED)
    outcomes: Counter = Counter()
    stages = []
    for number in range(ROUNDS):
        recording, artist = make_recording(official_stems=True, seconds=1.0)
        stage = Round(number, recording, artist, fan)
        set_the_stage(stage, stripe_events.sandbox)
        race(stage, actors(stage, stripe_events.sandbox, staff), rng)
        worker_picks_up(stage)
        stages.append(stage)
        assert stage.errors == [], (number, stage.errors)
        assert stage.withdrawn is not None
        assert stage.gap_claim == "cancelled", number
        straggler = stage.remixes["straggler"]
        assert not straggler.events.filter(to_status=Remix.Status.RENDERING).exists(), number
        assert doors_passed_after_withdrawal(stage) == [], number
        assert kept_without_delivery(stage) == [], number
        remixes = Remix.objects.filter(recording=recording)
        assert not remixes.filter(status=Remix.Status.PUBLISHED).exists(), number
        assert not remixes.filter(status__in=Remix.ACTIVE_STATUSES).exists(), number
        outcomes.update(remixes.values_list("status", flat=True))
        outcomes.update(f"{name} {how}" for name, how in stage.doors.items())
    print("\nconsent race outcomes:", dict(sorted(outcomes.items())))

    # Stripe's refund events reverse every settlement of a refunded order.
    stripe_events.deliver()
    refunded = Order.objects.filter(status=Order.Status.REFUNDED)
    assert refunded.exists()
    for order in refunded:
        settlement = Settlement.objects.filter(order_ref=f"order_{order.pk}").first()
        if settlement is not None:
            total = settlement.refunds.aggregate(s=Sum("amount_cents"))["s"]
            assert total == settlement.gross_cents, order.pk
    assert ledger_verify() == []
    found = anomalies_all()
    assert found["undelivered_not_refunded"] == [] and found["refund_without_reversal"] == []
