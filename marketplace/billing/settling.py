"""Settling paid orders: their splits posted to the ledger, many per database
transaction when they arrive together.

A paid order without `settled_at` waits in the settling queue (a partial
index holds only those). Whoever settles takes a bounded batch of them with
`SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers (the fulfilment task
of each paid order, the beat sweep) take disjoint batches and never wait for
each other; royalties posts the whole batch in one transaction and a fixed
number of statements (`settlements_post`), each order still settled once by
its unique key; `settled_at` is set in that same transaction. A single paid
order is a batch of one, settled by its own fulfilment task at once.

Orders whose track may no longer be remixed are left for their fulfilment
task, which refunds them instead. Transfers are queued on commit by royalties;
nothing here calls Stripe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.selectors import recording_remixability_map
from core.refs import order_ref, remix_ref
from marketplace.models import Order
from royalties.models import Settlement
from royalties.services.settlements import SettlementRequest, settlements_post

logger = logging.getLogger(__name__)

# Paid orders whose money is still (at least partly) with us: a dispute does
# not undo the purchase, so a disputed order settles too (see fulfilment).
SETTLING = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.DISPUTED)

# Read with the orders (joined), so that settling reads no split version again.
WITH_SPLITS = ("remix__master_split_version", "remix__publishing_split_version")


@dataclass(frozen=True)
class SettleBatch:
    picked: list[int]  # orders taken from the queue (locked) by this batch
    settled: list[int]  # those now settled (new, or found settled before)


def orders_unsettled() -> QuerySet[Order]:
    """The settling queue (the `order_unsettled` partial index), oldest first."""
    return Order.objects.filter(
        paid_at__isnull=False, settled_at__isnull=True, status__in=SETTLING
    ).order_by("paid_at", "pk")


def settlement_request(order: Order) -> SettlementRequest:
    """What royalties needs to settle `order`: against the split versions its
    remix recorded when it was created (read with the order: `WITH_SPLITS`)."""
    remix = order.remix
    return SettlementRequest(
        order_ref=order_ref(order.pk),
        gross_cents=order.amount_cents,
        currency=order.currency,
        master_split_version=remix.master_split_version,
        publishing_split_version=remix.publishing_split_version,
        charge_id=order.stripe_charge_id,
        transfer_group=order.transfer_group,
        remix_ref=remix_ref(remix.pk),
        recording=remix.recording_id,
    )


def orders_settle_locked(orders: Sequence[Order]) -> list[int]:
    """Settle orders this transaction has locked, in one ledger batch, and mark
    them settled in the same transaction; the ids settled. A refused order (a
    blocked split: staff see the block) stays in the queue."""
    if not orders:
        return []
    results = settlements_post([settlement_request(order) for order in orders])
    now = timezone.now()
    settled: list[int] = []
    for order, result in zip(orders, results, strict=True):
        if isinstance(result, Settlement):
            settled.append(order.pk)
            order.settled_at = now
        else:
            logger.error("settlement refused for order %s: %s", order.pk, result)
    if settled:
        Order.objects.filter(pk__in=settled).update(settled_at=now)
    return settled


def _remixable(orders: Sequence[Order]) -> list[Order]:
    """The orders whose track may still be remixed (five queries for the batch)."""
    recordings = {order.remix.recording_id: order.remix.recording for order in orders}
    verdicts = recording_remixability_map(list(recordings.values()))
    return [order for order in orders if verdicts[order.remix.recording_id].remixable]


@transaction.atomic
def orders_settle_pending(*, limit: int | None = None, skip: Iterable[int] = ()) -> SettleBatch:
    """Take up to `limit` orders from the settling queue that no other worker
    holds (FOR UPDATE SKIP LOCKED) and settle the remixable ones, in one
    transaction."""
    limit = limit or settings.ORDER_SETTLE_BATCH
    orders = list(
        orders_unsettled()
        .exclude(pk__in=list(skip))
        .select_related(*WITH_SPLITS, "remix__recording")
        .select_for_update(skip_locked=True, of=("self",))[:limit]
    )
    if not orders:
        return SettleBatch([], [])
    settled = orders_settle_locked(_remixable(orders))
    return SettleBatch([order.pk for order in orders], settled)


def orders_settle_drain(*, batch: int | None = None, max_batches: int = 100) -> int:
    """Settle the queue batch by batch (one transaction each) until it is
    empty, or holds only orders that cannot settle now; the number settled."""
    batch = batch or settings.ORDER_SETTLE_BATCH
    seen: set[int] = set()
    settled = 0
    for _ in range(max_batches):
        done = orders_settle_pending(limit=batch, skip=seen)
        seen.update(done.picked)
        settled += len(done.settled)
        if len(done.picked) < batch:
            break
    return settled


def order_settle(*, order: Order) -> None:
    """Settle one paid order now if its money is still (at least partly) with
    us, partly refunded or disputed included (a refund or dispute that
    overtakes fulfilment settles first). Waits for a batch that holds the
    order, then finds it settled. Decided on the locked row, not on `order`:
    a caller's copy may be older than a refund committed since, and a wholly
    refunded order must never be settled. `order` gets the row's settled_at
    and status. A blocked split is logged; the fan still gets their remix
    (see fulfilment)."""
    with transaction.atomic():
        locked = (
            Order.objects.select_related(*WITH_SPLITS)
            .select_for_update(of=("self",))
            .get(pk=order.pk)
        )
        if locked.settled_at is None and locked.paid_at is not None and locked.status in SETTLING:
            orders_settle_locked([locked])
    order.settled_at, order.status = locked.settled_at, locked.status
