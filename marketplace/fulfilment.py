"""What happens once Stripe says a remix order is paid.

Marketplace sits on top, so it is the one place that may orchestrate the
three apps: catalog's rule is checked again (consent may have been revoked
between checkout and payment), royalties settles the split against the split
versions the remix recorded, and remixing renders the export. If the track
may no longer be remixed, the fan gets their money back and is told why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from catalog.errors import DomainError
from catalog.selectors import recording_remixability
from marketplace.billing.services import order_refund_full
from marketplace.models import Order
from remixing.services.remixes import remix_render_start
from royalties.services import SettlementBlocked, settlement_post

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fulfilment:
    order_id: int
    outcome: str  # "rendering", "refunded", "skipped"
    detail: str = ""


def order_settlement_ref(order: Order) -> str:
    return f"order_{order.pk}"


def _refund(order: Order, why: str) -> Fulfilment:
    reason = (
        "This track can no longer be remixed, so your remix was not made and your payment "
        f"was refunded in full. {why}".strip()
    )
    order_refund_full(order=order, reason=reason)
    return Fulfilment(order.pk, "refunded", why)


def order_settle(*, order: Order) -> None:
    """Post the order's split to the ledger (idempotent on the order), against
    the split versions the remix recorded when it was created."""
    remix = order.remix
    try:
        settlement_post(
            order_ref=order_settlement_ref(order),
            gross_cents=order.amount_cents,
            currency=order.currency,
            master_split_version=remix.master_split_version,
            publishing_split_version=remix.publishing_split_version,
            charge_id=order.stripe_charge_id,
            transfer_group=order.transfer_group,
            remix_ref=f"remix_{remix.pk}",
            recording=remix.recording,
        )
    except SettlementBlocked as blocked:
        # The money stays with the platform and staff see the block; the fan
        # paid and still gets their remix.
        logger.error("settlement blocked for order %s: %s", order.pk, blocked.message)


def order_fulfil(*, order_id: int) -> Fulfilment:
    """Settle and render a paid order, or refund it. Safe to run again:
    settlement is idempotent on the order and a render already under way or
    done is left alone."""
    order = Order.objects.select_related("remix", "remix__recording").get(pk=order_id)
    if order.paid_at is None or order.status not in (
        Order.Status.PAID,
        Order.Status.PARTIALLY_REFUNDED,
    ):
        return Fulfilment(order.pk, "skipped", f"order is {order.status}")
    remix = order.remix
    verdict = recording_remixability(recording=remix.recording)
    if not verdict.remixable:
        return _refund(order, verdict.why_not)
    order_settle(order=order)
    try:
        remix_render_start(remix=remix)
    except DomainError as refused:
        if refused.code == "not_remixable":
            return _refund(order, refused.message)
        raise
    return Fulfilment(order.pk, "rendering")


def order_list_awaiting_fulfilment():
    """Paid orders that have no settlement yet (a lost task, a crash)."""
    from royalties.models import Settlement

    settled = Settlement.objects.values_list("order_ref", flat=True)
    paid = Order.objects.filter(
        status__in=(Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED), paid_at__isnull=False
    )
    settled_refs = set(settled)
    return [order for order in paid if order_settlement_ref(order) not in settled_refs]


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
    from royalties.models import Settlement

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


def royalties_handler(handler):
    """Wrap a royalties webhook handler for the one endpoint."""
    from catalog.errors import NotFound

    def run(event) -> None:
        try:
            handler(event)
        except NotFound as missing:
            if missing.code != "settlement_missing":
                raise
            if order_refunded_before_settlement(event):
                return
            order = order_paid_unsettled(event)
            if order is None:
                raise
            # Money moved back before our fulfilment task ran: settle first so
            # the refund or dispute has lines to reverse, then apply it.
            order_settle(order=order)
            handler(event)

    run.__name__ = getattr(handler, "__name__", "royalties_handler")
    return run
