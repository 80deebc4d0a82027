"""Webhook storm (issue 14, part 1): a generated month of Stripe events,
delivered a thousand-odd times from 16 threads, ends in the state one clean,
in-order delivery produces.

How "the same state" is established. Two *twin worlds* are generated in
lockstep, through the real SDK, in one sandbox of this test's own (its clock
moves a month, so it must not be the session's): the same catalog, fans,
subscriptions, 50+ paid remix orders, Connect onboardings, refunds, disputes,
a renewal month with failing cards and abandoned checkouts, each step applied
to both worlds with the same seeded choices. Every sandbox event belongs to
exactly one world (by the customer, charge, or account it is about). Then:

* world "clean" gets each of its events once, oldest first, over real HTTP to
  the live server, and a worker that keeps up (what the Celery tasks each
  delivery queues would do: fulfil paid orders, send transfers and
  reversals) runs after every delivery;
* world "storm" gets its events from 16 threads: a third duplicated (up to
  three more copies, some at the same instant), a fifth moved out of order,
  forged copies (wrong secret, tampered body, stale or no signature: 400) and
  signed events of unknown types (200, ignored); a delivery answered 5xx is
  delivered again later, as Stripe retries; the same worker runs
  concurrently the whole time.

Both worlds are then projected onto what they are about, with every id replaced
by its role in the world (order #7, the artist of track 3, fan 2's Premium):
orders, subscriptions, payees, settlements with every line's amounts, refunds,
per-party ledger balances, platform cash and revenue, and per line the money
that reached the holder's account both in our ledger and at the sandbox. The
projections must be equal. What is deliberately not compared is the history
of a line's transfer rows: a refund that lands before a payout is simply never
paid out, one that lands after is reversed; both leave the same money where it
belongs, and that (not the number of round trips) is the state.

Independently of the twin: the sandbox's own transfers must equal our ledger
per line (no duplicate transfer: one Stripe transfer per transfer row), the
four verifiers pass, and every genuine event is stored once and processed.
Deliveries per second and p99 latency are printed (and written as a JSON line
under $TEST_ARTIFACTS_DIR); speed is recorded, never asserted.
STORM_SCALE=3 makes everything three times bigger for a local soak.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import queue
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import override_settings

import stripe_sandbox
from catalog.models import SplitVersion
from catalog.selectors import recording_remixability
from marketplace.billing.fulfilment import order_fulfil
from marketplace.billing.reconcile import subscription_checkout_reconcile_on_return
from marketplace.billing.services.orders import order_checkout_start
from marketplace.billing.services.plans import plan_catalog_sync
from marketplace.billing.services.subscription_checkout import subscription_checkout_start
from marketplace.billing.services.subscriptions import subscription_cancel_at_period_end_set
from marketplace.billing.stripe_client import object_id, sget
from marketplace.models import BillingCustomer, Order, Subscription, WebhookEvent
from remixing.models import Remix, StemSet
from royalties import ledger
from royalties.audit import ledger_verify, stripe_reconcile
from royalties.models import Entry, Payee, Reversal, Settlement, Transfer
from royalties.services.payees import payee_onboarding_link
from royalties.services.sweeps import payouts_sweep
from royalties.stripe_client import stripe_client
from stripe_sandbox.testing import submit_onboarding
from tests.catalog.factories import remixable_recording
from tests.fixtures.accounts import UserFactory
from tests.fixtures.stripe import (
    CARD_DECLINED,
    SANDBOX_API_KEY,
    SandboxHandle,
    stripe_signature,
)
from tests.marketplace.test_money_end_to_end import URLS

pytestmark = pytest.mark.django_db(transaction=True)

SCALE = max(1.0, float(os.environ.get("STORM_SCALE", "1")))
ORDERS = int(50 * SCALE) + 4  # + the abandoned checkouts
FANS = int(8 * SCALE)
TRACKS = int(5 * SCALE)
THREADS = 16
MIN_DELIVERIES = int(1000 * SCALE)
SEED = 14
VERIFIERS = ("verify_ledger", "reconcile_stripe", "verify_consent_chain", "verify_audit_log")
# Events whose handling queues tasks (fulfilment, payouts, reversals).
QUEUES_WORK = (
    "checkout.session.completed",
    "account.updated",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
)
SUB_URLS = {
    "success_url": "http://testserver/billing/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://testserver/pricing/",
}


# --- The sandbox of this test ----------------------------------------------------------


@pytest.fixture
def month_sandbox(live_server, transactional_db):
    """A sandbox of our own: its clock moves a month, and reconciling it with
    the ledger must not meet other tests' transfers. Nothing is delivered by
    the sandbox itself: the test is the deliverer."""
    server = stripe_sandbox.start(
        port=0, webhook_url=None, webhook_secret=settings.STRIPE_WEBHOOK_SECRET
    )
    handle = SandboxHandle(
        server=server,
        url=server.url.rstrip("/"),
        webhook_url=f"{live_server.url}/stripe/webhook",
        secret=settings.STRIPE_WEBHOOK_SECRET,
    )
    with override_settings(STRIPE_API_BASE=handle.url, STRIPE_API_KEY=SANDBOX_API_KEY):
        try:
            yield handle
        finally:
            server.stop()


# --- A world: one of the two identically generated months -------------------------------


@dataclass
class World:
    name: str
    fans: list = field(default_factory=list)
    tracks: list = field(default_factory=list)  # (recording, artist, artist_user, songwriter)
    stem_sets: dict = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    charges: dict[int, str] = field(default_factory=dict)  # order index -> charge id
    role: dict[int, str] = field(default_factory=dict)  # party id -> "artist3"
    ids: set[str] = field(default_factory=set)  # Stripe ids that belong to this world
    events: list[dict] = field(default_factory=list)

    @property
    def order_ids(self) -> list[int]:
        return [order.pk for order in self.orders]

    @property
    def party_ids(self) -> list[int]:
        return list(self.role)

    def owns(self, event: dict) -> bool:
        obj = event["data"]["object"]
        keys = (
            obj.get("id"),
            obj.get("customer"),
            obj.get("charge"),
            obj.get("payment_intent"),
            obj.get("destination"),
            obj.get("subscription"),
            event.get("account"),
        )
        return any(isinstance(key, str) and key in self.ids for key in keys)


def build_catalog(world: World) -> None:
    for n in range(TRACKS):
        recording, artist, user = remixable_recording(f"{world.name} artist {n}")
        verdict = recording_remixability(recording=recording)
        songwriter = SplitVersion.objects.get(pk=verdict.publishing_split_version_id)
        songwriter = songwriter.shares.get().party
        world.tracks.append((recording, artist, user, songwriter))
        world.role[artist.pk] = f"artist{n}"
        world.role[songwriter.pk] = f"songwriter{n}"
        world.stem_sets[recording.pk] = StemSet.objects.create(
            audio_sha256=f"{recording.pk:064d}",
            model_name="htdemucs",
            recording=recording,
            status="ready",
        )


def subscribe(sandbox: SandboxHandle, world: World, fan, plan_code: str) -> None:
    """Hosted checkout, then the success page asks Stripe (as a fan's browser would)."""
    attempt = subscription_checkout_start(user=fan, plan_code=plan_code, **SUB_URLS)
    assert sandbox.pay(attempt.checkout_url, email=fan.email)
    subscription_checkout_reconcile_on_return(
        user=fan, session_id=attempt.stripe_checkout_session_id
    )


def add_fans(sandbox: SandboxHandle, world: World) -> None:
    for _ in range(FANS):
        fan = UserFactory()
        subscribe(sandbox, world, fan, "premium")
        subscribe(sandbox, world, fan, "remix_addon")
        world.fans.append(fan)
        world.ids.add(BillingCustomer.objects.get(user=fan).stripe_customer_id)


def onboard(world: World, party, user) -> None:
    link = payee_onboarding_link(
        party=party, user=user, return_url="http://testserver/", refresh_url="http://testserver/"
    )
    assert submit_onboarding(link, "complete").status < 400
    world.ids.add(Payee.objects.get(party=party).stripe_account_id)


def draft_remix(world: World, fan, track: int) -> Remix:
    recording = world.tracks[track][0]
    verdict = recording_remixability(recording=recording)
    remix = Remix.objects.create(
        fan=fan,
        recording=recording,
        title=f"{world.name} storm remix",
        recipe={"version": 1},
        stem_set=world.stem_sets[recording.pk],
        master_split_version_id=verdict.master_split_version_id,
        publishing_split_version_id=verdict.publishing_split_version_id,
    )
    remix.consent_events.set(verdict.consent_event_ids)
    return remix


def charge_of(order: Order) -> str:
    client = stripe_client()
    session = client.v1.checkout.sessions.retrieve(order.stripe_checkout_session_id)
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    charge = sget(intent, "latest_charge") or sget(intent, "charges", "data")[-1]
    return object_id(charge)


def buy(sandbox: SandboxHandle, world: World, n: int, *, fans: range) -> None:
    """Order number n: a fan pays for a remix on the hosted checkout (or the
    card is declined and the checkout is abandoned, every 13th)."""
    fan = world.fans[fans.start + n % len(fans)]
    remix = draft_remix(world, fan, n % TRACKS)
    order = order_checkout_start(fan=fan, remix=remix, **URLS)
    world.orders.append(order)
    declined = n % 13 == 12
    paid = sandbox.pay(order.checkout_url, card=CARD_DECLINED if declined else "4242424242424242")
    assert bool(paid) is not declined
    if not declined:
        charge = charge_of(order)
        world.charges[len(world.orders) - 1] = charge
        world.ids.add(charge)


def refund_or_dispute(sandbox: SandboxHandle, world: World, first: int) -> list[str]:
    """Refunds from the Dashboard (full every 7th, partial every 11th) and
    disputes (every 9th), on the orders from `first` on. Returns dispute ids."""
    client = stripe_client()
    disputes = []
    for n, charge in sorted(world.charges.items()):
        if n < first:
            continue
        if n % 7 == 3:
            client.v1.refunds.create(params={"charge": charge}, options=_key(world, "rf", n))
        elif n % 11 == 4:
            client.v1.refunds.create(
                params={"charge": charge, "amount": 100}, options=_key(world, "rp", n)
            )
        elif n % 9 == 5:
            disputes.append(sandbox.open_dispute(charge, reason="fraudulent")["id"])
    return disputes


def _key(world: World, kind: str, n: int) -> dict[str, str]:
    return {"idempotency_key": f"storm-{world.name}-{kind}-{n}-{time.time_ns()}"}


def generate_month(sandbox: SandboxHandle, worlds: list[World]) -> None:
    """The same month for every world, step by step (see the module docstring)."""
    half = (ORDERS - 4) // 2
    for world in worlds:
        build_catalog(world)
        add_fans(sandbox, world)
    for world in worlds:  # day 1: three artists onboard to Connect
        for _recording, artist, user, _songwriter in world.tracks[:3]:
            onboard(world, artist, user)
    for world in worlds:
        for n in range(half):
            buy(sandbox, world, n, fans=range(FANS))
    disputes = {world.name: refund_or_dispute(sandbox, world, 0) for world in worlds}
    for world in worlds:  # two fans' cards start failing; one fan cancels
        for fan in world.fans[:2]:
            sandbox.fail_renewals(BillingCustomer.objects.get(user=fan).stripe_customer_id)
        for subscription in Subscription.objects.filter(user=world.fans[-1]):
            subscription_cancel_at_period_end_set(subscription=subscription, cancel=True)
    sandbox.advance_clock(days=31)  # renewals, dunning, abandoned checkouts expire
    for world in worlds:  # a songwriter onboards late: what they accrued is swept
        _recording, _artist, _user, songwriter = world.tracks[0]
        onboard(world, songwriter, None)
        outcomes = ["won", "lost"]
        for i, dispute in enumerate(disputes[world.name][:2]):
            sandbox.close_dispute(dispute, outcomes[i])
    for world in worlds:
        for n in range(half, ORDERS):
            buy(sandbox, world, n, fans=range(2, FANS))
    for world in worlds:
        refund_or_dispute(sandbox, world, half)
    sandbox.advance_clock(days=2)


def split_events(sandbox: SandboxHandle, worlds: list[World], seen: set[str]) -> None:
    """Give each world the sandbox events about it not yet seen, oldest first."""
    for event in sandbox.list_events():
        if event["id"] in seen:
            continue
        seen.add(event["id"])
        owners = [world for world in worlds if world.owns(event)]
        if event["type"].startswith(("product.", "price.")):
            continue  # the plan catalog, synced before the worlds existed
        assert len(owners) == 1, (event["type"], event["data"]["object"].get("id"))
        owners[0].events.append(event)


# --- The worker: what the tasks a delivery queues would do -----------------------------


def worker_catch_up(world: World, *, backoff_over: bool = True) -> None:
    """order_fulfil_task for every paid order not yet started, then the payout
    tasks (transfer_line, reversal_execute, payouts_sweep) run inline. Unless
    `backoff_over`, a transfer Stripe refused waits out its backoff."""
    waiting = Order.objects.filter(
        pk__in=world.order_ids,
        paid_at__isnull=False,
        status__in=(Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.DISPUTED),
        remix__status=Remix.Status.DRAFT,
    ).values_list("pk", flat=True)
    for order_id in list(waiting):
        order_fulfil(order_id=order_id)
    payouts_sweep(run_inline=True, force=backoff_over)


def worker_drain(world: World) -> None:
    """Catch up until nothing is left in flight."""
    for _ in range(5):
        worker_catch_up(world)
        busy = (
            Transfer.objects.filter(
                party_id__in=world.party_ids, status__in=("pending", "failed")
            ).exists()
            or Reversal.objects.filter(
                transfer__party_id__in=world.party_ids, status__in=("pending", "failed")
            ).exists()
        )
        if not busy:
            return
    raise AssertionError(f"{world.name}: transfers or reversals still in flight")


# --- Delivery -----------------------------------------------------------------------------


@dataclass
class Delivery:
    body: str
    signature: str | None
    kind: str  # "genuine", "forged", "unknown"
    event_id: str
    expect: int  # 200 or 400


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)
    answered: Counter = field(default_factory=Counter)  # (event id, 200 or 500) -> times
    wrong: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def genuine(event: dict) -> Delivery:
    body = json.dumps(event, indent=2)
    return Delivery(body, None, "genuine", event["id"], 200)


def post(url: str, delivery: Delivery) -> tuple[int, float]:
    """One real HTTP POST, signed at send time as Stripe does (unless forged)."""
    parts = urlsplit(url)
    signature = delivery.signature
    if delivery.kind != "forged":
        signature = stripe_signature(delivery.body, settings.STRIPE_WEBHOOK_SECRET)
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["Stripe-Signature"] = signature
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("POST", parts.path, body=delivery.body.encode(), headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def deliver_in_order(url: str, world: World, events: list[dict]) -> None:
    """The clean reference: each event once, oldest first, the worker keeping up."""
    for event in events:
        status, _ = post(url, genuine(event))
        assert status == 200, (event["type"], status)
        if event["type"] in QUEUES_WORK:
            worker_catch_up(world, backoff_over=False)


def forgeries(events: list[dict], rng: random.Random) -> list[Delivery]:
    """Copies of real events that must be refused: each would change money if
    believed (a refund claimed in full, a dispute lost)."""
    forged = []
    for i, event in enumerate(rng.sample(events, max(12, len(events) // 20))):
        body = json.dumps(event, indent=2)
        how = i % 4
        if how == 0:
            signature = stripe_signature(body, "whsec_forged_by_someone_else")
        elif how == 1:  # tampered after signing: the money claimed is not Stripe's
            signature = stripe_signature(body, settings.STRIPE_WEBHOOK_SECRET)
            tampered = json.loads(body)
            tampered["type"] = "charge.refunded"
            tampered["data"]["object"]["amount_refunded"] = 299
            tampered["data"]["object"]["metadata"] = {"clearmix_forged": "yes"}
            body = json.dumps(tampered, indent=2)
        elif how == 2:  # replayed long after it was signed
            signature = stripe_signature(
                body, settings.STRIPE_WEBHOOK_SECRET, timestamp=int(time.time()) - 3600
            )
        else:
            signature = ""
        forged.append(Delivery(body, signature, "forged", event["id"], 400))
    return forged


def unknown_events(count: int) -> list[Delivery]:
    types = ("issuing_card.created", "radar.early_fraud_warning.created", "clearmix.never_heard")
    deliveries = []
    for n in range(count):
        event = {
            "id": f"evt_storm_unknown_{n}",
            "object": "event",
            "api_version": "2020-08-27",
            "created": int(time.time()),
            "data": {"object": {"id": f"obj_storm_{n}", "object": "unknown"}},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": types[n % len(types)],
        }
        delivery = genuine(event)
        delivery.kind = "unknown"
        deliveries.append(delivery)
    return deliveries


def storm_schedule(events: list[dict], rng: random.Random) -> list[Delivery]:
    """Oldest first, then a fifth moved anywhere, a third duplicated (some
    copies right behind the original, so they race), forged and unknown ones
    mixed in; at least MIN_DELIVERIES in all."""
    schedule = [genuine(event) for event in events]
    for delivery in rng.sample(schedule, len(schedule) // 5):
        schedule.remove(delivery)
        schedule.insert(rng.randrange(len(schedule) + 1), delivery)
    extra = forgeries(events, rng) + unknown_events(max(12, len(events) // 30))
    duplicated = rng.sample(events, len(events) // 3)
    room = MIN_DELIVERIES - len(schedule) - len(extra)
    copies = min(3, max(1, math.ceil(room / len(duplicated))))
    for event in duplicated:
        for _ in range(rng.randint(1, copies) if copies > 1 else 1):
            if rng.random() < 0.3:
                at = next(i for i, d in enumerate(schedule) if d.event_id == event["id"]) + 1
            else:
                at = rng.randrange(len(schedule) + 1)
            schedule.insert(at, genuine(event))
    while len(schedule) + len(extra) < MIN_DELIVERIES:
        schedule.insert(rng.randrange(len(schedule) + 1), genuine(rng.choice(events)))
    for delivery in extra:
        schedule.insert(rng.randrange(len(schedule) + 1), delivery)
    return schedule


def storm(url: str, schedule: list[Delivery], tally: Tally) -> None:
    """16 threads; a genuine delivery answered 5xx goes to the back of the
    queue (Stripe retries), anything else unexpected is recorded."""
    work: queue.Queue[Delivery | None] = queue.Queue()
    for delivery in schedule:
        work.put(delivery)
    tries: Counter = Counter()

    def run() -> None:
        while (delivery := work.get()) is not None:
            try:
                status, seconds = post(url, delivery)
                with tally.lock:
                    tally.latencies.append(seconds)
                    tally.statuses[status] += 1
                    if delivery.kind != "forged":
                        tally.answered[(delivery.event_id, min(status, 500))] += 1
                    if status >= 500 and delivery.kind != "forged":
                        tries[delivery.event_id] += 1
                        if tries[delivery.event_id] < 40:
                            tally.retried[json.loads(delivery.body)["type"]] += 1
                            work.put(delivery)
                            continue
                    if status != delivery.expect:
                        tally.wrong.append((delivery.kind, delivery.event_id, status))
            except Exception as exc:  # reported by the test
                with tally.lock:
                    tally.wrong.append((delivery.kind, delivery.event_id, repr(exc)))
            finally:
                work.task_done()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    work.join()
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join(30)


class Worker(threading.Thread):
    """The storm's worker: catches up over and over while deliveries land."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.done = threading.Event()
        self.errors: list[str] = []
        self.rounds = 0

    def run(self) -> None:
        try:
            while not self.done.is_set():
                try:
                    worker_catch_up(self.world, backoff_over=False)
                    self.rounds += 1
                except Exception as exc:  # a task that fails is retried by Celery
                    self.errors.append(repr(exc))
                self.done.wait(0.05)
        finally:
            connection.close()


# --- What a world's state is about, ids replaced by roles ----------------------------


def line_key(world: World, line) -> tuple:
    return (line.kind, world.role.get(line.party_id, "platform"))


def projection(world: World) -> dict[str, Any]:
    index = {order_id: n for n, order_id in enumerate(world.order_ids)}
    refs = {f"order_{order_id}": n for order_id, n in index.items()}
    orders = []
    for order in Order.objects.filter(pk__in=index).select_related("remix").order_by("pk"):
        orders.append(
            (
                index[order.pk],
                order.status,
                order.amount_cents,
                order.refunded_cents,
                order.dispute_status,
                order.paid_at is not None,
                order.remix.status,
            )
        )
    settlements = {}
    for s in Settlement.objects.filter(order_ref__in=refs).prefetch_related("lines", "refunds"):
        settlements[refs[s.order_ref]] = {
            "gross": (s.gross_cents, s.currency),
            "lines": sorted(
                (
                    *line_key(world, line),
                    line.bps,
                    line.amount_cents,
                    line.refunded_cents,
                    line.owed_cents,
                    line.transferred_cents - line.reversed_cents,
                    line.receivable_cents - line.offset_cents,
                )
                for line in s.lines.all()
            ),
            "refunds": sorted((r.kind, r.amount_cents, r.status) for r in s.refunds.all()),
        }
    fan_index = {fan.pk: n for n, fan in enumerate(world.fans)}
    subscriptions = sorted(
        (fan_index[s.user_id], s.plan.code, s.status, s.cancel_at_period_end)
        for s in Subscription.objects.filter(user_id__in=fan_index).select_related("plan")
    )
    payees = sorted(
        (world.role[p.party_id], p.can_receive, p.details_submitted)
        for p in Payee.objects.filter(party_id__in=world.party_ids)
    )
    balances = {
        (world.role[party_id], kind): ledger.balance(kind, party_id, "usd")
        for party_id in world.party_ids
        for kind in ("payable", "paid_out", "receivable")
    }
    platform = {
        kind: Entry.objects.filter(account__kind=kind, transaction__ref__in=list(refs)).aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
        for kind in ("platform_cash", "platform_revenue")
    }
    return {
        "orders": orders,
        "settlements": settlements,
        "subscriptions": subscriptions,
        "payees": payees,
        "balances": balances,
        "platform": platform,
        "at_stripe": money_at_stripe(world),
    }


def money_at_stripe(world: World) -> dict[tuple, int]:
    """Per (order, holder): what the sandbox says reached the holder's account."""
    groups = {order.transfer_group: n for n, order in enumerate(world.orders)}
    accounts = {
        p.stripe_account_id: world.role[p.party_id]
        for p in Payee.objects.filter(party_id__in=world.party_ids)
    }
    net: dict[tuple, int] = defaultdict(int)
    for transfer in stripe_client().v1.transfers.list(params={"limit": 100}).auto_paging_iter():
        if transfer.transfer_group in groups:
            key = (groups[transfer.transfer_group], accounts[transfer.destination])
            net[key] += transfer.amount - transfer.amount_reversed
    return {key: cents for key, cents in net.items() if cents}


def assert_money_back_on_its_own_order(world: World) -> None:
    """Each settlement carries its own order's charge, and each refund or
    dispute in the ledger is posted on the settlement of the charge Stripe
    took the money back from."""
    orders = {f"order_{order.pk}": order for order in world.orders}
    wrong = []
    for s in Settlement.objects.filter(order_ref__in=list(orders)).prefetch_related("refunds"):
        order = orders[s.order_ref]
        order.refresh_from_db()
        if s.charge_id != order.stripe_charge_id:
            wrong.append(f"{s.order_ref}: settled with charge {s.charge_id!r}, order has "
                         f"{order.stripe_charge_id!r}")  # fmt: skip
        for refund in s.refunds.all():
            source = (
                stripe_client().v1.refunds.retrieve(refund.external_id)
                if refund.kind == "refund"
                else stripe_client().v1.disputes.retrieve(refund.external_id)
            )
            if object_id(sget(source, "charge")) != s.charge_id:
                wrong.append(f"{refund.kind} {refund.external_id} of charge "
                             f"{object_id(sget(source, 'charge'))} posted on {s.order_ref} "
                             f"(charge {s.charge_id})")  # fmt: skip
    assert wrong == [], f"{world.name}: {wrong}"


def assert_one_stripe_transfer_per_row(world: World) -> None:
    rows = Counter()
    for transfer in stripe_client().v1.transfers.list(params={"limit": 100}).auto_paging_iter():
        row = sget(transfer, "metadata", "clearmix_transfer_id")
        if row:
            rows[row] += 1
    assert [row for row, n in rows.items() if n > 1] == []
    ours = Transfer.objects.filter(party_id__in=world.party_ids, status="succeeded")
    assert all(rows[str(t.pk)] == 1 for t in ours)


def record_figures(figures: dict[str, Any]) -> None:
    print("\nwebhook storm:", json.dumps(figures))
    folder = os.environ.get("TEST_ARTIFACTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with open(Path(folder) / "webhook_storm.jsonl", "a") as out:
            out.write(json.dumps(figures) + "\n")


def _dump(value: dict) -> str:
    out = []
    for key, part in value.items():
        items = part.items() if isinstance(part, dict) else enumerate(part)
        out.extend(f"{key} {k}: {v}" for k, v in sorted(items, key=lambda kv: str(kv[0])))
    return "\n".join(out) + "\n"


def _differences(clean: dict, storm: dict) -> str:
    """Only what differs, entry by entry (a whole-projection diff is thousands
    of lines, and dicts read back in a different order look changed)."""
    out = ["the storm world's state differs from the clean world's:"]
    for part in clean:
        want, have = clean[part], storm[part]
        if want == have:
            continue
        if isinstance(want, dict):
            for key in sorted(set(want) | set(have), key=str):
                if want.get(key) != have.get(key):
                    out.append(f"{part} {key}:\n  clean {want.get(key)}\n  storm {have.get(key)}")
        else:
            out.append(f"{part}:\n  clean {want}\n  storm {have}")
    return "\n".join(out)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


# --- The test ---------------------------------------------------------------------------


def test_a_month_of_webhooks_in_a_storm_ends_as_one_clean_delivery(month_sandbox, live_server):
    rng = random.Random(SEED)
    began = time.perf_counter()
    plan_catalog_sync()
    clean, stormy = World("clean"), World("storm")
    generate_month(month_sandbox, [clean, stormy])
    generated = time.perf_counter()
    seen: set[str] = set()
    split_events(month_sandbox, [clean, stormy], seen)
    url = month_sandbox.webhook_url
    assert len(clean.events) == len(stormy.events)
    assert len(stormy.charges) == len(clean.charges) >= 50  # orders paid at Stripe

    deliver_in_order(url, clean, clean.events)
    worker_drain(clean)
    before = len(clean.events)
    split_events(month_sandbox, [clean, stormy], seen)  # what the payouts themselves caused
    deliver_in_order(url, clean, clean.events[before:])
    expected = projection(clean)
    cleaned = time.perf_counter()

    schedule = storm_schedule(stormy.events, rng)
    tally = Tally()
    worker = Worker(stormy)
    started = time.perf_counter()
    worker.start()
    try:
        storm(url, schedule, tally)
    finally:
        worker.done.set()
        worker.join(60)
    seconds = time.perf_counter() - started
    worker_drain(stormy)
    before = len(stormy.events)
    split_events(month_sandbox, [clean, stormy], seen)
    deliver_in_order(url, stormy, stormy.events[before:])
    worker_drain(stormy)

    figures = {
        "deliveries": len(tally.latencies),
        "scheduled": len(schedule),
        "events": len(set(d.event_id for d in schedule if d.kind == "genuine")),
        "threads": THREADS,
        "seconds": round(seconds, 2),
        "deliveries_per_s": round(len(tally.latencies) / seconds, 1),
        "p50_ms": round(sorted(tally.latencies)[len(tally.latencies) // 2] * 1000, 1),
        "p99_ms": round(p99(tally.latencies) * 1000, 1),
        "statuses": dict(tally.statuses),
        "types": dict(Counter(e["type"] for e in stormy.events)),
        "retried_5xx": dict(tally.retried),
        "worker_rounds": worker.rounds,
        "worker_errors": len(worker.errors),
        "database": connection.vendor,
        "generate_s": round(generated - began, 1),
        "clean_delivery_s": round(cleaned - generated, 1),
    }
    record_figures(figures)

    assert tally.wrong == []
    assert len(tally.latencies) >= MIN_DELIVERIES
    got = projection(stormy)
    for world in (clean, stormy):
        assert_money_back_on_its_own_order(world)
    if os.environ.get("STORM_DUMP"):
        for name, value in (("clean", expected), ("storm", got)):
            Path(f"/tmp/storm-{name}.txt").write_text(_dump(value))
    if got != expected:
        pytest.fail(_differences(expected, got), pytrace=False)

    # Every genuine event stored once and done; nothing forged stored.
    genuine_ids = {d.event_id for d in schedule if d.kind != "forged"}
    rows = WebhookEvent.objects.filter(stripe_event_id__in=genuine_ids)
    assert rows.count() == len(genuine_ids)
    assert set(rows.values_list("status", flat=True)) <= set(WebhookEvent.DONE)
    # ... and its handlers ran to the end once: every other 200 was a duplicate
    # (a failed run, answered 500, rolled back and counts as an attempt).
    answered = tally.answered
    duplicates = dict(rows.values_list("stripe_event_id", "duplicates"))
    assert duplicates == {event_id: answered[(event_id, 200)] - 1 for event_id in genuine_ids}
    for event_id, attempts in rows.values_list("stripe_event_id", "attempts"):
        assert 1 <= attempts <= 1 + answered[(event_id, 500)], event_id
    assert rows.filter(status="ignored", stripe_event_id__startswith="evt_storm_unknown").count()

    # Paid means paid once: one settlement per order that kept money.
    for world in (clean, stormy):
        assert_one_stripe_transfer_per_row(world)
    assert ledger_verify() == []
    assert stripe_reconcile() == []
    for command in (
        "verify_ledger",
        "reconcile_stripe",
        "verify_consent_chain",
        "verify_audit_log",
    ):
        call_command(command)
