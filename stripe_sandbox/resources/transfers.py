"""Transfers to connected accounts, transfer reversals and balances.

Balance rules (all amounts in the transfer currency, everything "available"):

* platform: + successful charges, - refunds, - transfers, + reversals, -/+ disputes;
* connected account: + transfers, - reversals (and test-hook adjustments).

A transfer needs an ``active`` transfers capability on the destination and enough platform
balance; a reversal needs enough balance on the connected account, otherwise Stripe's
``balance_insufficient`` error is returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import StripeError, balance_insufficient, invalid
from ..events import diff, emit
from ..formparse import apply_metadata, get_int, get_str
from ..ids import new_id, random_token
from ..listing import paginate, where
from ..router import api
from ..state import PLATFORM
from .common import check_currency, format_amount, rendered, require
from .payments import new_balance_transaction

if TYPE_CHECKING:
    from ..core import Ctx

PLATFORM_INSUFFICIENT = (
    "You have insufficient available funds in your Stripe account. Try adding funds directly to "
    "your available balance by creating Charges using the 4000000000000077 test card. See: "
    "https://stripe.com/docs/testing#available-balance"
)
ACCOUNT_INSUFFICIENT = (
    "Insufficient funds in Stripe account. In test mode, you can add funds to your available "
    "balance (bypassing your pending balance) by creating a charge with 4000 0000 0000 0077 as "
    "the card number. You can use the the /v1/balance endpoint to view your Stripe balance (for "
    "more details, see stripe.com/docs/api#balance)."
)


def _transferred_from(ctx: Ctx, charge_id: str) -> int:
    return sum(
        t["amount"] - t["amount_reversed"]
        for t in ctx.store.all("transfers")
        if t["source_transaction"] == charge_id
    )


@api("POST", "/v1/transfers")
def create_transfer(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    amount = get_int(params, "amount", required=True, minimum=1)
    assert amount is not None
    currency = check_currency(get_str(params, "currency", required=True) or "")
    destination = get_str(params, "destination", required=True)
    assert destination is not None  # required: get_str raised otherwise
    acct = ctx.store.get(destination)
    if acct is None or acct.get("object") != "account":
        raise invalid(
            f"No such destination: '{destination}'", param="destination", code="resource_missing"
        )
    if acct["capabilities"].get("transfers") != "active":
        raise StripeError(
            400,
            "invalid_request_error",
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param="destination",
        )
    source_id = get_str(params, "source_transaction")
    if source_id is not None:
        charge = require(ctx, source_id, "charge", param="source_transaction", status=400)
        if charge["status"] != "succeeded":
            raise invalid(
                "The source_transaction must be a succeeded charge.", param="source_transaction"
            )
        if charge["currency"] != currency:
            raise invalid(
                f"The currency of source_transaction's balance transaction ({charge['currency']}) "
                f"must be the same as the transfer currency ({currency})",
                param="currency",
            )
        room = charge["amount"] - charge["amount_refunded"] - _transferred_from(ctx, source_id)
        if amount > room:
            raise invalid(
                f"Transfer amount ({format_amount(amount, currency)}) exceeds the amount left on "
                f"source_transaction {source_id} ({format_amount(max(room, 0), currency)}).",
                param="amount",
                code="amount_too_large",
            )
    if ctx.store.available(PLATFORM, currency) < amount:
        raise balance_insufficient(PLATFORM_INSUFFICIENT)
    metadata = apply_metadata({}, params)

    transfer_id = new_id("tr")
    payment_id = "py_" + random_token(24)
    txn = new_balance_transaction(
        ctx,
        owner=PLATFORM,
        amount=-amount,
        currency=currency,
        type_="transfer",
        category="transfer",
        source=transfer_id,
    )
    new_balance_transaction(
        ctx,
        owner=destination,
        amount=amount,
        currency=currency,
        type_="payment",
        category="charge",
        source=payment_id,
    )
    transfer = {
        "id": transfer_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "balance_transaction": txn["id"],
        "created": ctx.now(),
        "currency": currency,
        "description": get_str(params, "description"),
        "destination": destination,
        # The payment that lands on the connected account; not itself retrievable here.
        "destination_payment": payment_id,
        "livemode": False,
        "metadata": metadata,
        "reversed": False,
        "source_transaction": source_id,
        "source_type": "card",
        "transfer_group": get_str(params, "transfer_group"),
    }
    ctx.store.insert(transfer)
    out = rendered(ctx, transfer)
    emit(ctx, "transfer.created", out)
    return out


@api("GET", "/v1/transfers/{transfer}")
def retrieve_transfer(ctx: Ctx, params: dict[str, Any], transfer: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, transfer, "transfer"))


@api("GET", "/v1/transfers")
def list_transfers(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(
        ctx.store.all("transfers"),
        destination=get_str(params, "destination"),
        transfer_group=get_str(params, "transfer_group"),
    )
    return paginate(ctx, items, params, "/v1/transfers")


@api("POST", "/v1/transfers/{id}/reversals")
def create_reversal(ctx: Ctx, params: dict[str, Any], id: str) -> dict[str, Any]:
    transfer = require(ctx, id, "transfer")
    remaining = transfer["amount"] - transfer["amount_reversed"]
    amount = get_int(params, "amount", minimum=1)
    if amount is None:
        amount = remaining
    if remaining <= 0:
        raise invalid(
            f"Transfer {id} has already been fully reversed.", code="transfer_already_reversed"
        )
    if amount > remaining:
        raise invalid(
            f"Transfer reversal amount ({format_amount(amount, transfer['currency'])}) is "
            "greater than the amount left on the transfer "
            f"({format_amount(remaining, transfer['currency'])}).",
            param="amount",
        )
    destination = transfer["destination"]
    if ctx.store.available(destination, transfer["currency"]) < amount:
        raise balance_insufficient(ACCOUNT_INSUFFICIENT)
    metadata = apply_metadata({}, params)
    reversal_id = new_id("trr")
    txn = new_balance_transaction(
        ctx,
        owner=PLATFORM,
        amount=amount,
        currency=transfer["currency"],
        type_="transfer_refund",
        category="transfer_reversal",
        source=reversal_id,
    )
    new_balance_transaction(
        ctx,
        owner=destination,
        amount=-amount,
        currency=transfer["currency"],
        type_="payment_refund",
        category="refund",
        source=reversal_id,
    )
    reversal = {
        "id": reversal_id,
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": txn["id"],
        "created": ctx.now(),
        "currency": transfer["currency"],
        "destination_payment_refund": None,
        "metadata": metadata,
        "source_refund": None,
        "transfer": transfer["id"],
    }
    before = rendered(ctx, transfer)
    ctx.store.insert(reversal)
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
    after = rendered(ctx, transfer)
    emit(ctx, "transfer.reversed", after, diff(before, after))
    return rendered(ctx, reversal)


@api("GET", "/v1/transfers/{id}/reversals")
def list_reversals(ctx: Ctx, params: dict[str, Any], id: str) -> dict[str, Any]:
    require(ctx, id, "transfer")
    items = where(ctx.store.all("transfer_reversals"), transfer=id)
    return paginate(ctx, items, params, f"/v1/transfers/{id}/reversals")


@api("GET", "/v1/transfers/{transfer}/reversals/{id}")
def retrieve_reversal(ctx: Ctx, params: dict[str, Any], transfer: str, id: str) -> dict[str, Any]:
    require(ctx, transfer, "transfer")
    reversal = require(ctx, id, "transfer_reversal")
    if reversal["transfer"] != transfer:
        raise invalid(f"No such transfer reversal: '{id}'", param="id", code="resource_missing")
    return rendered(ctx, reversal)


# --- balance ------------------------------------------------------------------------------------


def balance_object(ctx: Ctx, owner: str) -> dict[str, Any]:
    amounts = ctx.store.balances.get(owner) or {}
    if not amounts:
        default = "usd"
        if owner != PLATFORM:
            default = (ctx.store.get(owner) or {}).get("default_currency", "usd")
        amounts = {default: 0}
    available = [
        {"amount": amt, "currency": cur, "source_types": {"card": amt}}
        for cur, amt in sorted(amounts.items())
    ]
    pending = [
        {"amount": 0, "currency": cur, "source_types": {"card": 0}} for cur in sorted(amounts)
    ]
    balance = {"object": "balance", "available": available, "livemode": False, "pending": pending}
    if owner == PLATFORM:
        balance["connect_reserved"] = [{"amount": 0, "currency": cur} for cur in sorted(amounts)]
    return balance


@api("GET", "/v1/balance")
def retrieve_balance(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return balance_object(ctx, ctx.account or PLATFORM)


def set_account_balance(ctx: Ctx, owner: str, currency: str, amount: int) -> dict[str, Any]:
    """Test hook: force an available balance (recorded as an adjustment)."""
    delta = amount - ctx.store.available(owner, currency)
    if delta:
        new_balance_transaction(
            ctx,
            owner=owner,
            amount=delta,
            currency=currency,
            type_="adjustment",
            category="other_adjustment",
            source=None,
            description="Stripe sandbox balance adjustment",
        )
    return balance_object(ctx, owner)
