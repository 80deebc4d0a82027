"""Paid orders that arrive together settle together (marketplace.billing.settling):
a worker drains the settling queue in bounded batches, one database
transaction and a fixed number of statements per batch, to the cent what
settling each order alone gives; a lone paid order is settled by its own
fulfilment task at once; concurrent workers settle each order exactly once."""

from __future__ import annotations

import itertools
import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.selectors import recording_remixability
from catalog.services import consent_revoke
from core.refs import order_ref
from marketplace.billing.fulfilment import order_fulfil, order_list_awaiting_fulfilment
from marketplace.billing.settling import (
    order_settle,
    orders_settle_drain,
    orders_settle_pending,
    orders_unsettled,
)
from marketplace.models import Order
from remixing.models import Remix
from royalties import enqueue
from royalties.audit import ledger_verify
from royalties.models import AccountBalance, Entry, Settlement
from tests.catalog.factories import remixable_recording
from tests.fixtures.accounts import UserFactory

PG = connection.vendor == "postgresql"
_charges = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    # Transfers are queued on commit; what they do is tested in royalties.
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda *a: None)


def _recordings(n: int) -> list:
    out = []
    for i in range(n):
        recording, party, user = remixable_recording(f"Artist {i}")
        out.append((recording, recording_remixability(recording=recording), party, user))
    return out


def _paid_orders(recordings: list, amounts: list[int]) -> list[Order]:
    """One paid order per amount, each for a remix of its own (round robin over
    the recordings), marked paid the way the webhook marks it."""
    fan = UserFactory()
    remixes = Remix.objects.bulk_create(
        [
            Remix(
                fan=fan,
                recording=recording,
                title=f"Remix {i}",
                recipe={"version": 1},
                master_split_version_id=verdict.master_split_version_id,
                publishing_split_version_id=verdict.publishing_split_version_id,
            )
            for i, (recording, verdict, *_) in zip(
                range(len(amounts)), itertools.cycle(recordings), strict=False
            )
        ]
    )
    now = timezone.now()
    orders = []
    for remix, amount in zip(remixes, amounts, strict=True):
        charge = next(_charges)
        orders.append(
            Order.objects.create(
                fan=fan,
                remix=remix,
                amount_cents=amount,
                currency="usd",
                status=Order.Status.PAID,
                paid_at=now,
                transfer_group=f"remix_{remix.pk}",
                stripe_charge_id=f"ch_settling_{charge}",
                stripe_payment_intent_id=f"pi_settling_{charge}",
            )
        )
    return orders


def _split(order: Order) -> list[tuple]:
    """What an order's settlement wrote: its lines and its entries."""
    settlement = Settlement.objects.get(order_ref=order_ref(order.pk))
    lines = sorted(settlement.lines.values_list("kind", "party_id", "bps", "amount_cents"))
    entries = sorted(
        Entry.objects.filter(transaction=settlement.transaction_id).values_list(
            "account_id", "amount_cents", "line__kind", "line__party_id"
        )
    )
    return [settlement.gross_cents, lines, entries]


def _balances() -> dict[int, int]:
    kept = dict(AccountBalance.objects.values_list("account_id", "balance_cents"))
    summed = dict(
        Entry.objects.values("account_id")
        .annotate(s=Sum("amount_cents"))
        .values_list("account_id", "s")
    )
    assert kept == summed  # the balance rows equal their entries
    return kept


def _ledger_statements(queries) -> int:
    return sum(q["sql"].startswith('INSERT INTO "royalties_ledgertransaction"') for q in queries)


@pytest.mark.django_db
def test_a_spike_settles_in_batches_exactly_as_one_by_one():
    recordings = _recordings(2)
    amounts = [299 + 37 * i for i in range(12)]  # each rounds its own way
    alone = _paid_orders(recordings, amounts)
    for order in alone:
        order_settle(order=order)
    after_alone = _balances()
    spike = _paid_orders(recordings, amounts)

    with CaptureQueriesContext(connection) as queries:
        assert orders_settle_drain(batch=5) == 12
    assert _ledger_statements(queries) == 3  # 5 + 5 + 2 orders: three batches

    for one, batched in zip(alone, spike, strict=True):
        assert _split(batched) == _split(one)
    after_spike = _balances()
    assert {a: after_spike[a] - after_alone.get(a, 0) for a in after_spike} == after_alone
    assert sum(after_alone.values()) == 0
    assert not orders_unsettled().exists()
    assert set(Order.objects.values_list("settled_at", flat=True)) != {None}
    assert order_list_awaiting_fulfilment() == []
    assert ledger_verify() == []


# One batch, whatever its size (accounts exist): the orders taken FOR UPDATE
# SKIP LOCKED (their remixes' split versions joined), five for their tracks'
# remixability (main credits, consent states, master and publishing splits,
# takedowns), the ledger batch (split shares; ledger transactions, settlements
# with their blocks resolved (SQLite: a statement of its own), lines, accounts,
# entries, [PostgreSQL: the ledger's deferred checks], balances; payees that
# can receive), the orders marked settled; the batch's savepoint and its release
# (inside the test's transaction; outside, BEGIN and COMMIT, not counted).
SETTLE_BATCH_QUERIES = 18


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 50])
def test_a_batch_costs_the_same_statements_for_one_order_or_fifty(size):
    recordings = _recordings(2)
    for order in _paid_orders(recordings, [500, 500]):  # the accounts exist from now on
        order_settle(order=order)
    _paid_orders(recordings, [100 + i for i in range(size)])
    with CaptureQueriesContext(connection) as queries:
        done = orders_settle_pending(limit=50)
    assert len(done.picked) == len(done.settled) == size
    assert len(queries) == SETTLE_BATCH_QUERIES, "\n".join(q["sql"][:100] for q in queries)
    assert Settlement.objects.count() == size + 2
    _balances()
    assert ledger_verify() == []


@pytest.mark.django_db
def test_a_lone_paid_order_is_settled_by_its_fulfilment_at_once(monkeypatch):
    monkeypatch.setattr("marketplace.billing.fulfilment.remix_render_start", lambda *, remix: None)
    recordings = _recordings(1)
    (order,) = _paid_orders(recordings, [299])
    assert list(orders_unsettled()) == [order]
    assert order_fulfil(order_id=order.pk).outcome == "rendering"
    order.refresh_from_db()
    assert order.settled_at is not None
    settlement = Settlement.objects.get(order_ref=order_ref(order.pk))
    assert sum(settlement.lines.values_list("amount_cents", flat=True)) == 299
    assert not orders_unsettled().exists()
    # Run again (a duplicate task): nothing more is posted.
    assert order_fulfil(order_id=order.pk).outcome == "rendering"
    assert Settlement.objects.count() == 1


@pytest.mark.django_db
def test_a_batch_leaves_orders_it_may_not_settle_to_their_fulfilment():
    (fine, revoked) = _recordings(2)
    orders = _paid_orders([fine, revoked], [299, 299, 299, 299])
    recording, _, party, user = revoked
    consent_revoke(party=party, actor=user, reason="changed my mind")

    assert orders_settle_drain(batch=3) == 2
    settled = set(Settlement.objects.values_list("order_ref", flat=True))
    assert settled == {order_ref(o.pk) for o in orders if o.remix.recording_id != recording.pk}
    # Still in the queue: their fulfilment task refunds them.
    assert {o.pk for o in orders_unsettled()} == {
        o.pk for o in orders if o.remix.recording_id == recording.pk
    }
    assert ledger_verify() == []


@pytest.mark.skipif(
    not PG, reason="concurrent batch workers need PostgreSQL (SQLite has one writer)"
)
def test_a_duplicate_storm_of_batch_workers_settles_each_order_once(transactional_db):
    with transaction.atomic():  # splits are checked whole at commit
        recordings = _recordings(3)
        orders = _paid_orders(recordings, [199 + 13 * i for i in range(60)])
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(seed: int) -> None:
        mine = orders[:]
        random.Random(seed).shuffle(mine)
        try:
            barrier.wait()
            for i, order in enumerate(mine):
                if i % 6 == 0:
                    orders_settle_pending(limit=7)  # a batch of whatever waits
                else:
                    order_settle(order=Order(pk=order.pk))  # the same order, again
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    refs = [order_ref(o.pk) for o in orders]
    per_order = Counter(
        Settlement.objects.filter(order_ref__in=refs).values_list("order_ref", flat=True)
    )
    assert per_order == Counter(refs)  # exactly one settlement per order
    assert Entry.objects.filter(transaction__ref__in=refs).count() == Entry.objects.count()
    assert not orders_unsettled().exists()
    gross = sum(o.amount_cents for o in orders)
    assert (
        sum(Settlement.objects.filter(order_ref__in=refs).values_list("gross_cents", flat=True))
        == gross
    )
    _balances()
    assert ledger_verify() == []


@pytest.mark.django_db
def test_an_order_refunded_in_full_since_it_was_read_is_never_settled():
    """A fulfilment task reads a paid order; a refund webhook then records a
    full refund and commits; the task's settling must go by the locked row,
    not by its copy: nothing is settled, and the copy learns the refund."""
    (order,) = _paid_orders(_recordings(1), [299])
    read_by_the_task = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.REFUNDED, refunded_cents=299, refunded_at=timezone.now()
    )
    order_settle(order=read_by_the_task)
    assert not Settlement.objects.filter(order_ref=order_ref(order.pk)).exists()
    assert (read_by_the_task.status, read_by_the_task.settled_at) == (Order.Status.REFUNDED, None)
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_an_order_refunded_in_part_since_it_was_read_is_settled_in_full():
    """A partial refund leaves money with us: the order settles for its gross,
    and the refund is then posted against the settlement (royalties)."""
    (order,) = _paid_orders(_recordings(1), [299])
    read_by_the_task = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.PARTIALLY_REFUNDED, refunded_cents=100
    )
    order_settle(order=read_by_the_task)
    settlement = Settlement.objects.get(order_ref=order_ref(order.pk))
    assert settlement.gross_cents == 299
    assert read_by_the_task.status == Order.Status.PARTIALLY_REFUNDED
    assert read_by_the_task.settled_at is not None
