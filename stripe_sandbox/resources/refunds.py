"""Refunds (full and partial) and disputes (opened/closed through test hooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import StripeError, invalid
from ..events import diff, emit
from ..formparse import apply_metadata, get_bool, get_int, get_str
from ..ids import new_id
from ..listing import paginate, where
from ..router import api
from ..state import PLATFORM
from .common import format_amount, rendered, require
from .payments import new_balance_transaction

if TYPE_CHECKING:
    from ..core import Ctx

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
DISPUTE_REASONS = (
    "bank_cannot_process", "credit_not_processed", "customer_initiated", "debit_not_authorized",
    "duplicate", "fraudulent", "general", "incorrect_account_details", "insufficient_funds",
    "product_not_received", "product_unacceptable", "subscription_canceled", "unrecognized",
)  # fmt: skip


def _charge_for_refund(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    charge_id = get_str(params, "charge")
    pi_id = get_str(params, "payment_intent")
    if charge_id and pi_id:
        raise invalid("You may only specify one of these parameters: charge, payment_intent.")
    if charge_id:
        return require(ctx, charge_id, "charge", param="charge", status=400)
    if pi_id:
        pi = require(ctx, pi_id, "payment_intent", param="payment_intent", status=400)
        charge = ctx.store.get(pi.get("latest_charge"))
        if pi["status"] != "succeeded" or charge is None:
            raise invalid(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                param="payment_intent",
                code="charge_not_refundable",
            )
        return charge
    raise invalid(
        "One of the following params should be provided for this request: payment_intent or charge."
    )


@api("POST", "/v1/refunds")
def create_refund(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    for name in ("reverse_transfer", "refund_application_fee"):
        # Both move money on connected accounts, which the sandbox does not model for charges.
        if get_bool(params, name):
            raise invalid(f"The Stripe sandbox does not support `{name}` on refunds.", param=name)
    charge = _charge_for_refund(ctx, params)
    if charge["status"] != "succeeded":
        raise invalid(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.",
            code="charge_not_refundable",
        )
    if charge["disputed"]:
        raise invalid(
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise invalid(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = get_int(params, "amount", minimum=1)
    if amount is None:
        amount = remaining
    if amount > remaining:
        currency = charge["currency"]
        raise invalid(
            f"Refund amount ({format_amount(amount, currency)}) is greater than unrefunded "
            f"amount on charge ({format_amount(remaining, currency)})",
            param="amount",
            code="amount_too_large",
        )
    reason = get_str(params, "reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise invalid(f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason")
    metadata = apply_metadata({}, params)

    refund_id = new_id("re")
    # Refunds come out of the platform balance; the sandbox lets it go negative rather than
    # failing, which is what Stripe does when it can debit the platform's bank account.
    txn = new_balance_transaction(
        ctx,
        owner=PLATFORM,
        amount=-amount,
        currency=charge["currency"],
        type_="refund",
        category="refund",
        source=refund_id,
        description="REFUND FOR CHARGE",
    )
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn["id"],
        "charge": charge["id"],
        "created": ctx.now(),
        "currency": charge["currency"],
        "metadata": metadata,
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    before = rendered(ctx, charge)
    ctx.store.insert(refund)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    after = rendered(ctx, charge)
    emit(ctx, "charge.refunded", after, diff(before, after))
    out = rendered(ctx, refund)
    emit(ctx, "refund.created", out)
    return out


@api("GET", "/v1/refunds/{refund}")
def retrieve_refund(ctx: Ctx, params: dict[str, Any], refund: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, refund, "refund"))


@api("GET", "/v1/refunds")
def list_refunds(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(
        ctx.store.all("refunds"),
        charge=get_str(params, "charge"),
        payment_intent=get_str(params, "payment_intent"),
    )
    return paginate(ctx, items, params, "/v1/refunds")


# --- disputes -------------------------------------------------------------------------------------

_EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
    "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
    "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
    "service_documentation", "shipping_address", "shipping_carrier", "shipping_date",
    "shipping_documentation", "shipping_tracking_number", "uncategorized_file",
    "uncategorized_text",
)  # fmt: skip


def _dispute_txn(ctx: Ctx, dispute: dict[str, Any], amount: int, category: str) -> None:
    txn = new_balance_transaction(
        ctx,
        owner=PLATFORM,
        amount=amount,
        currency=dispute["currency"],
        type_="adjustment",
        category=category,
        source=dispute["id"],
        description=f"Chargeback {'withdrawal' if amount < 0 else 'reversal'} "
        f"for {dispute['charge']}",
    )
    dispute["balance_transactions"].append(rendered(ctx, txn))


def open_dispute(
    ctx: Ctx, charge_id: str, reason: str = "fraudulent", amount: int | None = None
) -> dict[str, Any]:
    """Test hook: the cardholder disputes ``charge_id`` (funds are withdrawn immediately)."""
    charge = require(ctx, charge_id, "charge")
    if charge["status"] != "succeeded":
        raise invalid("Only succeeded charges can be disputed.", param="charge")
    if charge["disputed"]:
        raise invalid(f"Charge {charge_id} is already disputed.", param="charge")
    if reason not in DISPUTE_REASONS:
        raise invalid(
            f"Invalid reason: must be one of {', '.join(DISPUTE_REASONS)}", param="reason"
        )
    disputed_amount = amount if amount is not None else charge["amount"] - charge["amount_refunded"]
    if not 0 < disputed_amount <= charge["amount"]:
        raise invalid("Dispute amount must be between 1 and the charge amount.", param="amount")
    now = ctx.now()
    dispute = {
        "id": new_id("dp"),
        "object": "dispute",
        "amount": disputed_amount,
        "balance_transactions": [],
        "charge": charge_id,
        "created": now,
        "currency": charge["currency"],
        "evidence": dict.fromkeys(_EVIDENCE_FIELDS),
        "evidence_details": {
            "due_by": now + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "status": "needs_response",
    }
    ctx.store.insert(dispute)
    charge["disputed"] = True
    emit(ctx, "charge.dispute.created", rendered(ctx, dispute))
    _dispute_txn(ctx, dispute, -disputed_amount, "dispute")
    emit(ctx, "charge.dispute.funds_withdrawn", rendered(ctx, dispute))
    return rendered(ctx, dispute)


def close_dispute(ctx: Ctx, dispute_id: str, outcome: str) -> dict[str, Any]:
    """Test hook: the dispute is decided; ``won`` reinstates the withdrawn funds."""
    dispute = require(ctx, dispute_id, "dispute")
    if outcome not in ("won", "lost"):
        raise invalid("outcome must be 'won' or 'lost'.", param="outcome")
    if dispute["status"] in ("won", "lost"):
        raise StripeError(400, "invalid_request_error", f"Dispute {dispute_id} is already closed.")
    before = rendered(ctx, dispute)
    dispute["status"] = outcome
    if outcome == "won":
        _dispute_txn(ctx, dispute, dispute["amount"], "dispute_reversal")
    after = rendered(ctx, dispute)
    emit(ctx, "charge.dispute.closed", after, diff(before, after))
    if outcome == "won":
        emit(ctx, "charge.dispute.funds_reinstated", after)
    return after


@api("GET", "/v1/disputes/{dispute}")
def retrieve_dispute(ctx: Ctx, params: dict[str, Any], dispute: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, dispute, "dispute"))


@api("GET", "/v1/disputes")
def list_disputes(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(
        ctx.store.all("disputes"),
        charge=get_str(params, "charge"),
        payment_intent=get_str(params, "payment_intent"),
    )
    return paginate(ctx, items, params, "/v1/disputes")
