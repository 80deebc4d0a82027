"""Handlers for the Stripe events the royalties app cares about.

The marketplace owns the one webhook endpoint: it verifies the signature from
the raw body, stores the event once by id, then calls the handler below for its
type. Each handler is idempotent and tolerates events arriving twice or out of
order; each takes the event as a dict or a `stripe.Event`.

    account.updated                         handle_account_updated
    account.application.deauthorized       handle_account_deauthorized
    charge.refunded                         handle_charge_refunded
    refund.created / refund.updated /
      charge.refund.updated                 handle_refund_event
    charge.dispute.created                  handle_dispute_created
    charge.dispute.closed /
      charge.dispute.funds_reinstated       handle_dispute_closed

A handler raising `catalog.errors.NotFound` (code "settlement_missing") means
the order has not been settled yet: the endpoint should answer non-2xx so that
Stripe redelivers later.
"""

from __future__ import annotations

import logging

from . import services
from .services import _get
from .stripe_client import stripe_client

log = logging.getLogger(__name__)


def _object(event):
    return _get(_get(event, "data"), "object")


def handle_account_updated(event):
    """Decide whether transfers can flow to this account (charges and payouts
    enabled and the transfers capability active); when they newly can, the
    party's owed balance is swept."""
    return services.payee_apply_account(
        account=_object(event), event_created=_get(event, "created")
    )


def handle_account_deauthorized(event):
    account_id = _get(event, "account") or _get(_object(event), "id")
    if account_id:
        services.payee_deauthorize(stripe_account_id=account_id)


def _refunds_of_charge(charge) -> list:
    refunds = _get(_get(charge, "refunds"), "data")
    if refunds is not None:
        return list(refunds)
    # Newer API versions no longer embed refunds in the charge.
    listed = stripe_client().v1.refunds.list(params={"charge": _get(charge, "id"), "limit": 100})
    return list(listed.auto_paging_iter())


def _apply_refund(refund, charge_id=None):
    status = _get(refund, "status")
    refund_id = _get(refund, "id")
    charge_id = charge_id or _get(refund, "charge")
    if status in ("failed", "canceled"):
        return services.refund_reinstate(refund_id=refund_id, won=True)
    return services.refund_post(
        refund_id=refund_id, amount_cents=int(_get(refund, "amount")), charge_id=charge_id
    )


def handle_charge_refunded(event):
    charge = _object(event)
    return [_apply_refund(r, _get(charge, "id")) for r in _refunds_of_charge(charge)]


def handle_refund_event(event):
    return _apply_refund(_object(event))


INQUIRY_STATUSES = {"warning_needs_response", "warning_under_review", "warning_closed"}


def handle_dispute_created(event):
    """Funds are withdrawn for a dispute: spread over the lines like a refund
    (reversing transfers). The dispute's current state is read back from
    Stripe, so a `closed` event that overtook this one is respected."""
    dispute = _object(event)
    dispute_id = _get(dispute, "id")
    status = _get(dispute, "status")
    try:
        status = _get(stripe_client().v1.disputes.retrieve(dispute_id), "status") or status
    except Exception as exc:
        log.info("could not re-read dispute %s: %s", dispute_id, exc)
    if status in INQUIRY_STATUSES or status == "won":
        return None  # inquiries withdraw no funds; a won dispute nets to zero
    return services.dispute_open_post(
        dispute_id=dispute_id,
        charge_id=_get(dispute, "charge"),
        amount_cents=int(_get(dispute, "amount")),
    )


def handle_dispute_closed(event):
    dispute = _object(event)
    status = _get(dispute, "status")
    if _get(event, "type") == "charge.dispute.funds_reinstated":
        status = "won"
    return services.dispute_close_post(dispute_id=_get(dispute, "id"), status=status)


HANDLERS = {
    "account.updated": handle_account_updated,
    "account.application.deauthorized": handle_account_deauthorized,
    "charge.refunded": handle_charge_refunded,
    "refund.created": handle_refund_event,
    "refund.updated": handle_refund_event,
    "charge.refund.updated": handle_refund_event,
    "charge.dispute.created": handle_dispute_created,
    "charge.dispute.closed": handle_dispute_closed,
    "charge.dispute.funds_reinstated": handle_dispute_closed,
}


def handle_event(event):
    """Dispatch one verified, stored event; returns None for types we ignore."""
    handler = HANDLERS.get(_get(event, "type"))
    return handler(event) if handler else None
