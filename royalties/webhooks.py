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

Two handlers read Stripe. The endpoint calls their fetcher (FETCHERS) before
it opens its transaction and passes the answer as `fetched=`, so no network
call is made while the event's rows are locked; called without it, they fetch
for themselves.

A handler raising `core.errors.NotFound` (code `core.refs.SETTLEMENT_MISSING`) means
the order has not been settled yet: the endpoint should answer non-2xx so that
Stripe redelivers later.
"""

from __future__ import annotations

import logging

from .services import payees, refunds
from .stripe_client import stripe_client, stripe_value

log = logging.getLogger(__name__)


def _object(event):
    return stripe_value(stripe_value(event, "data"), "object")


def handle_account_updated(event):
    """Decide whether transfers can flow to this account (charges and payouts
    enabled and the transfers capability active); when they newly can, the
    party's owed balance is swept."""
    return payees.payee_apply_account(
        account=_object(event), event_created=stripe_value(event, "created")
    )


def handle_account_deauthorized(event):
    account_id = stripe_value(event, "account") or stripe_value(_object(event), "id")
    if account_id:
        payees.payee_deauthorize(stripe_account_id=account_id)


def _refunds_of_charge(charge) -> list:
    refunds = stripe_value(stripe_value(charge, "refunds"), "data")
    if refunds is not None:
        return list(refunds)
    # Newer API versions no longer embed refunds in the charge.
    listed = stripe_client().v1.refunds.list(
        params={"charge": stripe_value(charge, "id"), "limit": 100}
    )
    return list(listed.auto_paging_iter())


def _apply_refund(refund, charge_id=None):
    status = stripe_value(refund, "status")
    refund_id = stripe_value(refund, "id")
    charge_id = charge_id or stripe_value(refund, "charge")
    if status in ("failed", "canceled"):
        return refunds.refund_reinstate(refund_id=refund_id, won=True)
    return refunds.refund_post(
        refund_id=refund_id, amount_cents=int(stripe_value(refund, "amount")), charge_id=charge_id
    )


def charge_refunds_fetch(event) -> list:
    """The refunds of a refunded charge (FETCHERS: read before the transaction)."""
    return _refunds_of_charge(_object(event))


def handle_charge_refunded(event, *, fetched: list | None = None):
    charge = _object(event)
    refunds = fetched if fetched is not None else _refunds_of_charge(charge)
    return [_apply_refund(r, stripe_value(charge, "id")) for r in refunds]


def handle_refund_event(event):
    return _apply_refund(_object(event))


INQUIRY_STATUSES = {"warning_needs_response", "warning_under_review", "warning_closed"}


def dispute_status_fetch(event) -> str | None:
    """The dispute's current status, read back from Stripe (FETCHERS: before
    the transaction); the event's own status when Stripe does not answer."""
    dispute = _object(event)
    dispute_id = stripe_value(dispute, "id")
    status = stripe_value(dispute, "status")
    try:
        return stripe_value(stripe_client().v1.disputes.retrieve(dispute_id), "status") or status
    except Exception as exc:
        log.info("could not re-read dispute %s: %s", dispute_id, exc)
        return status


def handle_dispute_created(event, *, fetched: str | None = None):
    """Funds are withdrawn for a dispute: spread over the lines like a refund
    (reversing transfers). The dispute's current state is read back from
    Stripe, so a `closed` event that overtook this one is respected."""
    dispute = _object(event)
    dispute_id = stripe_value(dispute, "id")
    status = fetched if fetched is not None else dispute_status_fetch(event)
    if status in INQUIRY_STATUSES or status == "won":
        return None  # inquiries withdraw no funds; a won dispute nets to zero
    refund = refunds.dispute_open_post(
        dispute_id=dispute_id,
        charge_id=stripe_value(dispute, "charge"),
        amount_cents=int(stripe_value(dispute, "amount")),
    )
    if status == "lost":
        # Its `closed` event overtook this one and found nothing to close.
        return refunds.dispute_close_post(dispute_id=dispute_id, status="lost")
    return refund


def handle_dispute_closed(event):
    dispute = _object(event)
    status = stripe_value(dispute, "status")
    if stripe_value(event, "type") == "charge.dispute.funds_reinstated":
        status = "won"
    return refunds.dispute_close_post(dispute_id=stripe_value(dispute, "id"), status=status)


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


# Event types whose handler reads Stripe first, and the function that reads it.
FETCHERS = {
    "charge.refunded": charge_refunds_fetch,
    "charge.dispute.created": dispute_status_fetch,
}


def handle_event(event):
    """Dispatch one verified, stored event; returns None for types we ignore."""
    handler = HANDLERS.get(stripe_value(event, "type"))
    return handler(event) if handler else None
