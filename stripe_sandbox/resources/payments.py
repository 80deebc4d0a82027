"""Payment methods, payment intents, charges and balance transactions.

The sandbox never exposes a "confirm" API: payments happen through the hosted
Checkout page and through subscription renewals, both of which call
:func:`attempt_payment`. Successful charges credit the platform's available
balance in full (no fees, no pending period) so balances stay easy to reason
about in tests.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..cards import CardBehaviour, fingerprint
from ..errors import DOC_BASE, no_such
from ..events import diff, emit
from ..formparse import get_str
from ..ids import new_id, random_token
from ..listing import paginate, where
from ..router import api
from ..state import PLATFORM
from .common import empty_address, rendered, require

if TYPE_CHECKING:
    from ..core import Ctx

APPROVED_OUTCOME = {
    "network_status": "approved_by_network",
    "reason": None,
    "risk_level": "normal",
    "risk_score": 20,
    "seller_message": "Payment complete.",
    "type": "authorized",
}


# --- payment methods ----------------------------------------------------------------------------


def new_payment_method(
    ctx: Ctx,
    *,
    number: str,
    card: CardBehaviour,
    exp_month: int,
    exp_year: int,
    name: str | None,
    email: str | None,
) -> dict[str, Any]:
    pm: dict[str, Any] = {
        "id": new_id("pm"),
        "object": "payment_method",
        "billing_details": {
            "address": empty_address(),
            "email": email,
            "name": name,
            "phone": None,
        },
        "card": {
            "brand": card.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": card.country,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": fingerprint(number),
            "funding": card.funding,
            "generated_from": None,
            "last4": number[-4:],
            "networks": {"available": [card.brand], "preferred": None},
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": ctx.now(),
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }
    ctx.store.insert(pm)
    meta = ctx.store.meta(pm["id"])
    meta["decline"] = list(card.decline) if card.decline else None
    meta["fails_off_session"] = card.fails_off_session
    return pm


def attach_payment_method(ctx: Ctx, pm: dict[str, Any], customer_id: str) -> None:
    pm["customer"] = customer_id
    ctx.store.touch()
    emit(ctx, "payment_method.attached", rendered(ctx, pm))


@api("GET", "/v1/payment_methods/{payment_method}")
def retrieve_payment_method(
    ctx: Ctx, params: dict[str, Any], payment_method: str
) -> dict[str, Any]:
    return rendered(ctx, require(ctx, payment_method, "payment_method"))


# --- balance transactions -----------------------------------------------------------------------


def new_balance_transaction(
    ctx: Ctx,
    *,
    owner: str,
    amount: int,
    currency: str,
    type_: str,
    category: str,
    source: str | None,
    description: str | None = None,
) -> dict[str, Any]:
    """Move ``amount`` (signed) in ``owner``'s balance and record why."""
    now = ctx.now()
    txn: dict[str, Any] = {
        "id": new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now,
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": 0,
        "fee_details": [],
        "net": amount,
        "reporting_category": category,
        "source": source,
        "status": "available",
        "type": type_,
    }
    ctx.store.insert(txn)
    ctx.store.meta(txn["id"])["owner"] = owner
    ctx.store.adjust_balance(owner, currency, amount)
    return txn


def _owner(ctx: Ctx) -> str:
    return ctx.account or PLATFORM


@api("GET", "/v1/balance_transactions/{id}")
def retrieve_balance_transaction(ctx: Ctx, params: dict[str, Any], id: str) -> dict[str, Any]:
    txn = require(ctx, id, "balance transaction")
    # Each account only sees its own ledger (the platform's without a Stripe-Account header).
    if ctx.store.peek_meta(id).get("owner") != _owner(ctx):
        raise no_such("balance transaction", id)
    return rendered(ctx, txn)


@api("GET", "/v1/balance_transactions")
def list_balance_transactions(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    owner = _owner(ctx)
    items = [
        t
        for t in ctx.store.all("balance_transactions")
        if ctx.store.peek_meta(t["id"]).get("owner") == owner
    ]
    items = where(
        items,
        type=get_str(params, "type"),
        source=get_str(params, "source"),
        currency=get_str(params, "currency"),
    )
    return paginate(ctx, items, params, "/v1/balance_transactions")


# --- payment intents and charges ----------------------------------------------------------------


def new_payment_intent(
    ctx: Ctx,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    transfer_group: str | None = None,
    invoice: str | None = None,
    receipt_email: str | None = None,
    setup_future_usage: str | None = None,
) -> dict[str, Any]:
    pi_id = new_id("pi")
    pi = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{random_token(25)}",
        "confirmation_method": "automatic",
        "created": ctx.now(),
        "currency": currency,
        "customer": customer,
        "description": description,
        "invoice": invoice,
        "last_payment_error": None,
        # Newer API versions replace ``charges`` with ``latest_charge``; both are provided.
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": setup_future_usage,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": transfer_group,
    }
    ctx.store.insert(pi)
    emit(ctx, "payment_intent.created", rendered(ctx, pi))
    return pi


def decline_for(
    ctx: Ctx, pm: dict[str, Any] | None, customer: str | None, *, off_session: bool
) -> tuple[str, str | None, str] | None:
    """Why a charge on ``pm`` fails, or None when it succeeds."""
    if pm is None:
        return ("payment_method_missing", None, "The customer has no default payment method.")
    meta = ctx.store.peek_meta(pm["id"])
    if meta.get("decline"):
        code, decline_code, message = meta["decline"]
        return (code, decline_code, message)
    if off_session:
        if meta.get("fails_off_session") or (
            customer and ctx.store.peek_meta(customer).get("fail_renewals")
        ):
            return ("card_declined", "generic_decline", "Your card was declined.")
    return None


def attempt_payment(
    ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any] | None, *, off_session: bool
) -> tuple[dict[str, Any] | None, tuple[str, str | None, str] | None]:
    """Charge ``pm`` for ``pi``; returns (charge, decline). Emits the charge / PI events."""
    decline = decline_for(ctx, pm, pi["customer"], off_session=off_session)
    before = rendered(ctx, pi)
    charge = None
    if pm is not None:
        charge = _new_charge(ctx, pi, pm, decline)
        pi["latest_charge"] = charge["id"]
    if decline is None:
        assert charge is not None
        pi.update(
            status="succeeded",
            amount_received=pi["amount"],
            payment_method=pm["id"] if pm else None,
            last_payment_error=None,
        )
        ctx.store.touch()
        emit(ctx, "charge.succeeded", rendered(ctx, charge))
        after = rendered(ctx, pi)
        emit(ctx, "payment_intent.succeeded", after, diff(before, after))
    else:
        code, decline_code, message = decline
        error: dict[str, Any] = {
            "code": code,
            "doc_url": DOC_BASE + code.replace("_", "-"),
            "message": message,
            "type": "card_error",
        }
        if decline_code:
            error["decline_code"] = decline_code
        if charge is not None:
            error["charge"] = charge["id"]
        if pm is not None:
            error["payment_method"] = rendered(ctx, pm)
        pi.update(status="requires_payment_method", payment_method=None, last_payment_error=error)
        ctx.store.touch()
        if charge is not None:
            emit(ctx, "charge.failed", rendered(ctx, charge))
        after = rendered(ctx, pi)
        emit(ctx, "payment_intent.payment_failed", after, diff(before, after))
    return charge, decline


def _new_charge(
    ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any], decline: tuple[str, str | None, str] | None
) -> dict[str, Any]:
    card = pm["card"]
    succeeded = decline is None
    charge_id = new_id("ch")
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": copy.deepcopy(pm["billing_details"]),
        "calculated_statement_descriptor": "STRIPE SANDBOX",
        "captured": succeeded,
        "created": ctx.now(),
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if succeeded else decline[0],  # type: ignore[index]
        "failure_message": None if succeeded else decline[2],  # type: ignore[index]
        "fraud_details": {},
        "invoice": pi["invoice"],
        "livemode": False,
        "metadata": dict(pi["metadata"]),
        "on_behalf_of": None,
        "order": None,
        "outcome": dict(APPROVED_OUTCOME)
        if succeeded
        else {
            "network_status": "declined_by_network",
            "reason": decline[1] or decline[0],  # type: ignore[index]
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        },
        "paid": succeeded,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": {
            "card": {
                "brand": card["brand"],
                "checks": dict(card["checks"]),
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "installments": None,
                "last4": card["last4"],
                "mandate": None,
                "network": card["brand"],
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": pi["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if succeeded else "failed",
        "transfer_data": None,
        "transfer_group": pi["transfer_group"],
    }
    ctx.store.insert(charge)
    if succeeded:
        txn = new_balance_transaction(
            ctx,
            owner=PLATFORM,
            amount=pi["amount"],
            currency=pi["currency"],
            type_="charge",
            category="charge",
            source=charge_id,
            description=pi["description"],
        )
        charge["balance_transaction"] = txn["id"]
    return charge


@api("GET", "/v1/payment_intents/{intent}")
def retrieve_payment_intent(ctx: Ctx, params: dict[str, Any], intent: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, intent, "payment_intent"))


@api("GET", "/v1/payment_intents")
def list_payment_intents(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(ctx.store.all("payment_intents"), customer=get_str(params, "customer"))
    return paginate(ctx, items, params, "/v1/payment_intents")


@api("GET", "/v1/charges/{charge}")
def retrieve_charge(ctx: Ctx, params: dict[str, Any], charge: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, charge, "charge"))


@api("GET", "/v1/charges")
def list_charges(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(
        ctx.store.all("charges"),
        customer=get_str(params, "customer"),
        payment_intent=get_str(params, "payment_intent"),
        transfer_group=get_str(params, "transfer_group"),
    )
    return paginate(ctx, items, params, "/v1/charges")
