"""What happens once Stripe says a remix order is paid.

Marketplace sits on top, so it is the one place that may orchestrate the
three apps: catalog's rule is checked again (consent may have been revoked
between checkout and payment), royalties settles the split against the split
versions the remix recorded, and remixing renders the export. If the track
may no longer be remixed, the fan gets their money back and is told why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.selectors import recording_remixability
from core.errors import DomainError, NotFound
from core.refs import NOT_REMIXABLE, SETTLEMENT_MISSING, order_ref, parse_remix_ref, remix_ref
from marketplace.billing.services.refunds import order_refund_full
from marketplace.models import Order
from remixing.models import Remix
from remixing.services.remixes import remix_render_start
from royalties.models import Settlement

from .settling import SETTLING, order_settle, orders_settle_pending, orders_unsettled


@dataclass(frozen=True)
class Fulfilment:
    order_id: int
    outcome: str  # "rendering", "refunded", "skipped"
    detail: str = ""


def order_settlement_ref(order: Order) -> str:
    return order_ref(order.pk)


def remix_settlement_ref(remix) -> str:
    return remix_ref(remix.pk)


def remix_labels_for_settlements(refs: list[str]) -> dict[str, str]:
    """Royalties' payout pages name a settlement's remix through this (see
    royalties.labels): its title and who made it, never an internal id."""
    ids = {pk: ref for ref in refs if (pk := parse_remix_ref(ref)) is not None}
    remixes = Remix.objects.filter(pk__in=list(ids)).select_related("fan", "recording")
    return {
        ids[remix.pk]: f"“{remix.title or 'Untitled remix'}” by {remix.fan.public_name}"
        for remix in remixes
    }


def _refund(order: Order, why: str) -> Fulfilment:
    if order.status == Order.Status.DISPUTED:
        # Stripe refuses to refund a disputed charge: the bank's decision on
        # the dispute returns the money. Nothing is made, nothing is settled.
        return Fulfilment(order.pk, "skipped", f"not remixable and under dispute: {why}")
    reason = (
        # Not "the track": it may still be open, with a term this remix uses switched off.
        "This remix can no longer be made as it is, so it was not made and your payment "
        f"was refunded in full. {why}".strip()
    )
    order_refund_full(order=order, reason=reason)
    return Fulfilment(order.pk, "refunded", why)


def order_fulfil(*, order_id: int) -> Fulfilment:
    """Settle and render a paid order, or refund it. Safe to run again:
    settlement is idempotent on the order and a render already under way or
    done is left alone."""
    order = Order.objects.select_related("remix", "remix__recording").get(pk=order_id)
    # A dispute does not undo the purchase: a remix paid for is made whether
    # the dispute reached us before or after this task ran (otherwise the end
    # state would depend on which webhook came first).
    if order.paid_at is None or order.status not in SETTLING:
        return Fulfilment(order.pk, "skipped", f"order is {order.status}")
    remix = order.remix
    verdict = recording_remixability(recording=remix.recording)
    if not verdict.remixable:
        return _refund(order, verdict.why_not)
    if order.settled_at is None:
        # Paid orders that arrived together settle together: this task takes
        # a batch of whatever waits (others' tasks then find theirs settled),
        # then its own order if another worker's batch did not hold it.
        orders_settle_pending()
        order_settle(order=order)
        if order.status not in SETTLING:
            # Wholly refunded since this task read it: nothing to settle or make.
            return Fulfilment(order.pk, "skipped", f"order is {order.status}")
    try:
        remix_render_start(remix=remix)
    except DomainError as refused:
        if refused.code == NOT_REMIXABLE:
            return _refund(order, refused.message)
        raise
    return Fulfilment(order.pk, "rendering")


def order_list_awaiting_fulfilment() -> list[Order]:
    """Paid orders that have no settlement yet (a lost task, a crash): read
    from the settling queue, not from the whole order history."""
    waiting = list(
        orders_unsettled().filter(status__in=(Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED))
    )
    settled_refs = set(
        Settlement.objects.filter(
            order_ref__in=[order_settlement_ref(order) for order in waiting]
        ).values_list("order_ref", flat=True)
    )
    return [order for order in waiting if order_settlement_ref(order) not in settled_refs]


def _charge_id_of(event) -> str:
    data = event["data"]["object"] if isinstance(event, dict) else event.data.object
    get = (
        data.get
        if isinstance(data, dict)
        else lambda key, default=None: getattr(data, key, default)
    )
    if get("object") == "charge":
        return get("id") or ""
    charge = get("charge")
    return (charge if isinstance(charge, str) else getattr(charge, "id", "")) or ""


def order_refunded_before_settlement(event) -> bool:
    """A refund of an order that was wholly refunded before it was ever
    settled (consent revoked between checkout and payment, or refunded at
    once): there is nothing in the ledger to reverse, fulfilment will skip it,
    and Stripe must not be asked to redeliver forever. A partial refund of an
    unsettled order still fails, so Stripe redelivers it after settlement."""
    charge_id = _charge_id_of(event)
    if not charge_id:
        return False
    order = Order.objects.filter(stripe_charge_id=charge_id).first()
    if order is None or order.refunded_cents < order.amount_cents:
        return False
    return not Settlement.objects.filter(order_ref=order_settlement_ref(order)).exists()


def order_paid_unsettled(event) -> Order | None:
    charge_id = _charge_id_of(event)
    if not charge_id:
        return None
    return (
        Order.objects.select_related("remix", "remix__recording")
        .filter(stripe_charge_id=charge_id, paid_at__isnull=False)
        .first()
    )


def royalties_event_apply(*, event: Any, apply: Callable[[], object]) -> None:
    """Run one royalties webhook handler (`apply`) for `event`. When the order
    it is about has not been settled yet, settle it first and run it again."""
    try:
        apply()
    except NotFound as missing:
        if missing.code != SETTLEMENT_MISSING:
            raise
        if order_refunded_before_settlement(event):
            return
        order = order_paid_unsettled(event)
        if order is None:
            raise
        # Money moved back before our fulfilment task ran: settle first so
        # the refund or dispute has lines to reverse, then apply it. The order
        # is read again, locked, by order_settle: a payment that recorded a
        # full refund may have committed since the check above (it read the
        # order before that commit), and then there is nothing to settle.
        order_settle(order=order)
        if order.settled_at is None:
            if order_refunded_before_settlement(event):
                return
            raise
        apply()
