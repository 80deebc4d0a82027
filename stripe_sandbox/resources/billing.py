"""Subscriptions and invoices, including renewals on the simulated clock.

Lifecycle modelled (events in brackets):

* Checkout creates a subscription (``incomplete``) and its first invoice, pays it on-session
  and activates the subscription [customer.subscription.created, invoice.created,
  invoice.finalized, payment_intent.*, charge.*, invoice.paid, invoice.payment_succeeded,
  customer.subscription.updated].
* At ``current_period_end`` the period rolls forward and a ``subscription_cycle`` invoice is
  charged off-session. Success -> [invoice.paid, invoice.payment_succeeded]. Failure ->
  [invoice.payment_failed] and the subscription goes ``past_due``; the invoice is retried after
  each of ``config.dunning_retry_days``; when the last retry fails the subscription is canceled
  [customer.subscription.deleted].
* ``cancel_at_period_end`` subscriptions are canceled at period end instead of renewing.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..clock import period_boundary
from ..errors import card_declined, invalid
from ..events import diff, emit
from ..formparse import apply_metadata, get_bool, get_str
from ..ids import new_id
from ..listing import paginate, where
from ..router import api
from .common import format_amount, rendered, require
from .payments import attempt_payment, new_payment_intent

if TYPE_CHECKING:
    from ..core import Ctx

DAY = 86400
# Subscription update params the sandbox cannot model; silently ignoring them would lie.
UNSUPPORTED_UPDATE_PARAMS = (
    "add_invoice_items", "billing_cycle_anchor", "cancel_at", "collection_method", "coupon",
    "days_until_due", "items", "pause_collection", "promotion_code", "trial_end", "transfer_data",
)  # fmt: skip


# --- invoices -----------------------------------------------------------------------------------


def _interval(sub: dict[str, Any]) -> tuple[str, int]:
    recurring = sub["items"]["data"][0]["price"]["recurring"]
    return recurring["interval"], recurring["interval_count"]


def _lines(ctx: Ctx, sub: dict[str, Any], start: int, end: int) -> list[dict[str, Any]]:
    lines = []
    for item in sub["items"]["data"]:
        price = item["price"]
        qty = item["quantity"]
        interval = price["recurring"]["interval"]
        product = ctx.store.get(price["product"]) or {}
        name = price.get("nickname") or product.get("name") or price["product"]
        lines.append(
            {
                "id": new_id("il"),
                "object": "line_item",
                "amount": price["unit_amount"] * qty,
                "currency": price["currency"],
                "description": f"{qty} \N{MULTIPLICATION SIGN} {name} "
                f"(at {format_amount(price['unit_amount'], price['currency'])} / {interval})",
                "discount_amounts": [],
                "discountable": True,
                "discounts": [],
                "livemode": False,
                "metadata": dict(sub["metadata"]),
                "period": {"end": end, "start": start},
                "price": copy.deepcopy(price),
                "proration": False,
                "proration_details": {"credited_items": None},
                "quantity": qty,
                "subscription": sub["id"],
                "subscription_item": item["id"],
                "tax_amounts": [],
                "tax_rates": [],
                "type": "subscription",
            }
        )
    return lines


def new_invoice(
    ctx: Ctx, sub: dict[str, Any], reason: str, period: tuple[int, int]
) -> dict[str, Any]:
    """Create (draft) and finalize (open) the invoice for ``sub``'s current period."""
    store = ctx.store
    customer = store.get(sub["customer"]) or {}
    lines = _lines(ctx, sub, sub["current_period_start"], sub["current_period_end"])
    total = sum(line["amount"] for line in lines)
    invoice_id = new_id("in")
    now = ctx.now()
    invoice = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": ctx.config.platform_name,
        "account_tax_ids": None,
        "amount_due": total,
        "amount_paid": 0,
        "amount_remaining": total,
        "application_fee_amount": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {"enabled": False, "status": None},
        "billing_reason": reason,
        "charge": None,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": lines[0]["currency"],
        "custom_fields": None,
        "customer": sub["customer"],
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discount": None,
        "discounts": [],
        "due_date": None,
        "ending_balance": None,
        "footer": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "last_finalization_error": None,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "paid": False,
        "paid_out_of_band": False,
        # Newer API versions point at the subscription through ``parent``; provided for them.
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]},
            "type": "subscription_details",
        },
        "payment_intent": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None},
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "quote": None,
        "receipt_number": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subscription": sub["id"],
        "subtotal": total,
        "tax": None,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_tax_amounts": [],
        "transfer_data": None,
        "webhooks_delivered_at": None,
    }
    store.insert(invoice)
    emit(ctx, "invoice.created", rendered(ctx, invoice))
    before = rendered(ctx, invoice)
    if customer:
        seq = customer["next_invoice_sequence"]
        customer["next_invoice_sequence"] = seq + 1
        invoice["number"] = f"{customer['invoice_prefix']}-{seq:04d}"
    invoice["status"] = "open"
    invoice["status_transitions"]["finalized_at"] = now
    after = rendered(ctx, invoice)
    emit(ctx, "invoice.finalized", after, diff(before, after))
    return invoice


def pay_invoice(
    ctx: Ctx,
    invoice: dict[str, Any],
    *,
    off_session: bool,
    manual: bool = False,
    payment_method: dict[str, Any] | None = None,
) -> tuple[bool, tuple[str, str | None, str] | None]:
    """One payment attempt for an open invoice -> (paid, decline).

    An automatic attempt that fails schedules the next dunning retry (or none after the last);
    a ``manual`` attempt (``POST /v1/invoices/{id}/pay``) leaves the schedule alone.
    """
    store = ctx.store
    sub = store.get(invoice["subscription"]) or {}
    customer = store.get(invoice["customer"]) or {}
    pm_id = sub.get("default_payment_method") or customer.get("invoice_settings", {}).get(
        "default_payment_method"
    )
    pm = payment_method or store.get(pm_id)
    pi = store.get(invoice["payment_intent"])
    if pi is None:
        pi = new_payment_intent(
            ctx,
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            customer=invoice["customer"],
            description="Subscription creation"
            if invoice["billing_reason"] == "subscription_create"
            else "Subscription update",
            invoice=invoice["id"],
            setup_future_usage="off_session",
        )
        invoice["payment_intent"] = pi["id"]
    before = rendered(ctx, invoice)
    charge, decline = attempt_payment(ctx, pi, pm, off_session=off_session)
    now = ctx.now()
    invoice["attempt_count"] += 1
    invoice["attempted"] = True
    if charge is not None:
        invoice["charge"] = charge["id"]
    if decline is None:
        invoice.update(
            status="paid",
            paid=True,
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            next_payment_attempt=None,
            auto_advance=False,
        )
        invoice["status_transitions"]["paid_at"] = now
        after = rendered(ctx, invoice)
        emit(ctx, "invoice.paid", after, diff(before, after))
        emit(ctx, "invoice.payment_succeeded", after)
        return True, None
    if not manual:
        retry_days = ctx.config.dunning_retry_days
        failures = store.meta(invoice["id"]).get("automatic_failures", 0) + 1
        store.meta(invoice["id"])["automatic_failures"] = failures
        invoice["next_payment_attempt"] = (
            now + retry_days[failures - 1] * DAY if failures <= len(retry_days) else None
        )
    after = rendered(ctx, invoice)
    emit(ctx, "invoice.payment_failed", after, diff(before, after))
    return False, decline


# --- subscriptions ------------------------------------------------------------------------------


def create_subscription(
    ctx: Ctx,
    *,
    customer_id: str,
    items: list[tuple[dict[str, Any], int]],
    metadata: dict[str, str],
    payment_method: str | None,
) -> tuple[dict[str, Any], bool]:
    """Create a subscription from Checkout and pay its first invoice on-session."""
    now = ctx.now()
    sub_id = new_id("sub")
    interval, count = (
        items[0][0]["recurring"]["interval"],
        items[0][0]["recurring"]["interval_count"],
    )
    end = period_boundary(now, interval, count, 1)
    sub_items: list[dict[str, Any]] = [
        {
            "id": new_id("si"),
            "object": "subscription_item",
            "billing_thresholds": None,
            "created": now,
            # Newer API versions moved the period onto items; kept in sync for them.
            "current_period_end": end,
            "current_period_start": now,
            "metadata": {},
            "price": copy.deepcopy(price),
            "quantity": qty,
            "subscription": sub_id,
            "tax_rates": [],
        }
        for price, qty in items
    ]
    sub = {
        "id": sub_id,
        "object": "subscription",
        "application_fee_percent": None,
        "automatic_tax": {"enabled": False},
        "billing_cycle_anchor": now,
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": items[0][0]["currency"],
        "current_period_end": end,
        "current_period_start": now,
        "customer": customer_id,
        "days_until_due": None,
        "default_payment_method": payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discount": None,
        "ended_at": None,
        "items": {
            "object": "list",
            "data": sub_items,
            "has_more": False,
            "total_count": len(sub_items),
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": dict(metadata),
        "next_pending_invoice_item_invoice": None,
        "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None},
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": now,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_start": None,
    }
    ctx.store.insert(sub)
    ctx.store.meta(sub_id)["periods"] = 1
    emit(ctx, "customer.subscription.created", rendered(ctx, sub))
    invoice = new_invoice(ctx, sub, "subscription_create", (now, now))
    sub["latest_invoice"] = invoice["id"]
    before = rendered(ctx, sub)
    paid, _decline = pay_invoice(ctx, invoice, off_session=False)
    if paid:
        sub["status"] = "active"
        after = rendered(ctx, sub)
        emit(ctx, "customer.subscription.updated", after, diff(before, after))
    return sub, paid


def cancel_subscription(ctx: Ctx, sub: dict[str, Any]) -> dict[str, Any]:
    now = ctx.now()
    sub["status"] = "canceled"
    sub["canceled_at"] = sub["canceled_at"] or now
    sub["ended_at"] = now
    ctx.store.touch()
    for invoice in ctx.store.all("invoices"):
        # No more automatic collection on a canceled subscription's unpaid invoices.
        if invoice["subscription"] == sub["id"] and invoice["status"] == "open":
            invoice["next_payment_attempt"] = None
            invoice["auto_advance"] = False
    out = rendered(ctx, sub)
    emit(ctx, "customer.subscription.deleted", out)
    return out


def _has_unpaid_invoices(ctx: Ctx, sub_id: str) -> bool:
    return any(
        i["subscription"] == sub_id and i["status"] == "open" and i["attempted"]
        for i in ctx.store.all("invoices")
    )


def _after_payment(ctx: Ctx, sub: dict[str, Any], invoice: dict[str, Any], paid: bool) -> None:
    """Move the subscription's status after an off-session attempt."""
    before = rendered(ctx, sub)
    if paid:
        if sub["status"] == "past_due" and not _has_unpaid_invoices(ctx, sub["id"]):
            sub["status"] = "active"
    else:
        if invoice["next_payment_attempt"] is None:
            cancel_subscription(ctx, sub)
            return
        if sub["status"] == "active":
            sub["status"] = "past_due"
    after = rendered(ctx, sub)
    changes = diff(before, after)
    if changes:
        ctx.store.touch()
        emit(ctx, "customer.subscription.updated", after, changes)


def renew(ctx: Ctx, sub: dict[str, Any]) -> None:
    """Period end reached: cancel (cancel_at_period_end) or roll the period and invoice."""
    if sub["cancel_at_period_end"]:
        cancel_subscription(ctx, sub)
        return
    before = rendered(ctx, sub)
    meta = ctx.store.meta(sub["id"])
    periods = meta.get("periods", 1) + 1
    meta["periods"] = periods
    interval, count = _interval(sub)
    old_period = (sub["current_period_start"], sub["current_period_end"])
    start = sub["current_period_end"]
    end = period_boundary(sub["billing_cycle_anchor"], interval, count, periods)
    sub["current_period_start"], sub["current_period_end"] = start, end
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = start, end
    # Like Stripe, the cycle invoice's own period_* cover the period that just ended; its lines
    # cover the new one.
    invoice = new_invoice(ctx, sub, "subscription_cycle", old_period)
    sub["latest_invoice"] = invoice["id"]
    after = rendered(ctx, sub)
    emit(ctx, "customer.subscription.updated", after, diff(before, after))
    paid, _decline = pay_invoice(ctx, invoice, off_session=True)
    _after_payment(ctx, sub, invoice, paid)


def retry_invoice(ctx: Ctx, invoice: dict[str, Any]) -> None:
    sub = ctx.store.get(invoice["subscription"])
    if sub is None or sub["status"] == "canceled":
        invoice["next_payment_attempt"] = None
        return
    paid, _decline = pay_invoice(ctx, invoice, off_session=True)
    _after_payment(ctx, sub, invoice, paid)


def due_billing_work(ctx: Ctx) -> list[tuple[int, int, str]]:
    """(when, priority, id) of every renewal / retry that is scheduled."""
    work: list[tuple[int, int, str]] = []
    for sub in ctx.store.all("subscriptions"):
        if sub["status"] in ("active", "past_due"):
            work.append((sub["current_period_end"], 0, sub["id"]))
    for invoice in ctx.store.all("invoices"):
        if invoice["status"] == "open" and invoice["next_payment_attempt"]:
            work.append((invoice["next_payment_attempt"], 1, invoice["id"]))
    return work


def run_billing_work(ctx: Ctx, object_id: str) -> None:
    obj = ctx.store.get(object_id)
    if obj is None:
        return
    now = ctx.now()
    if (
        obj["object"] == "subscription"
        and obj["status"] in ("active", "past_due")
        and obj["current_period_end"] <= now
    ):
        renew(ctx, obj)
    elif (
        obj["object"] == "invoice"
        and obj["status"] == "open"
        and obj["next_payment_attempt"]
        and obj["next_payment_attempt"] <= now
    ):
        retry_invoice(ctx, obj)


# --- API ----------------------------------------------------------------------------------------


@api("GET", "/v1/subscriptions/{subscription_exposed_id}")
def retrieve_subscription(
    ctx: Ctx, params: dict[str, Any], subscription_exposed_id: str
) -> dict[str, Any]:
    return rendered(ctx, require(ctx, subscription_exposed_id, "subscription"))


@api("POST", "/v1/subscriptions/{subscription_exposed_id}")
def update_subscription(
    ctx: Ctx, params: dict[str, Any], subscription_exposed_id: str
) -> dict[str, Any]:
    sub = require(ctx, subscription_exposed_id, "subscription")
    for name in UNSUPPORTED_UPDATE_PARAMS:
        if name in params:
            raise invalid(
                f"The Stripe sandbox does not support `{name}` on subscription updates.", param=name
            )
    if sub["status"] == "canceled" and set(params) - {"metadata", "expand", "cancellation_details"}:
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    before = rendered(ctx, sub)
    cancel_flag = get_bool(params, "cancel_at_period_end")
    if cancel_flag is not None:
        sub["cancel_at_period_end"] = cancel_flag
        sub["cancel_at"] = sub["current_period_end"] if cancel_flag else None
        sub["canceled_at"] = ctx.now() if cancel_flag else None
    if "default_payment_method" in params:
        pm_id = get_str(params, "default_payment_method")
        if pm_id is not None:
            pm = ctx.store.get(pm_id)
            if pm is None or pm.get("customer") != sub["customer"]:
                raise invalid(
                    f"No such PaymentMethod: '{pm_id}'",
                    param="default_payment_method",
                    code="resource_missing",
                )
        sub["default_payment_method"] = pm_id
    if "description" in params:
        sub["description"] = get_str(params, "description")
    sub["metadata"] = apply_metadata(sub["metadata"], params)
    after = rendered(ctx, sub)
    changes = diff(before, after)
    if changes:
        ctx.store.touch()
        emit(ctx, "customer.subscription.updated", after, changes)
    return after


@api("DELETE", "/v1/subscriptions/{subscription_exposed_id}")
def delete_subscription(
    ctx: Ctx, params: dict[str, Any], subscription_exposed_id: str
) -> dict[str, Any]:
    sub = require(ctx, subscription_exposed_id, "subscription")
    if sub["status"] == "canceled":
        raise invalid(
            f"No such subscription: '{sub['id']}'; it has already been canceled.",
            code="resource_missing",
            param="id",
        )
    return cancel_subscription(ctx, sub)


@api("GET", "/v1/subscriptions")
def list_subscriptions(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    status = get_str(params, "status")
    items = where(ctx.store.all("subscriptions"), customer=get_str(params, "customer"))
    if status is None:
        # Stripe's default list leaves out canceled subscriptions.
        items = [s for s in items if s["status"] != "canceled"]
    elif status == "ended":
        items = [s for s in items if s["status"] in ("canceled", "incomplete_expired")]
    elif status != "all":
        items = [s for s in items if s["status"] == status]
    price = get_str(params, "price")
    if price:
        items = [s for s in items if any(i["price"]["id"] == price for i in s["items"]["data"])]
    return paginate(ctx, items, params, "/v1/subscriptions")


@api("GET", "/v1/invoices/{invoice}")
def retrieve_invoice(ctx: Ctx, params: dict[str, Any], invoice: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, invoice, "invoice"))


@api("POST", "/v1/invoices/{invoice}/pay")
def pay_invoice_api(ctx: Ctx, params: dict[str, Any], invoice: str) -> dict[str, Any]:
    """Retry an open invoice now (e.g. a "retry payment" button); declines are 402 card_errors."""
    inv = require(ctx, invoice, "invoice")
    for name in ("forgive", "source"):
        if name in params:
            raise invalid(
                f"The Stripe sandbox does not support `{name}` on invoice payments.", param=name
            )
    if inv["status"] == "paid":
        raise invalid("Invoice is already paid", code="invoice_already_paid")
    if inv["status"] != "open":
        raise invalid(
            f"You can only pay an open invoice. This invoice is {inv['status']}.",
            code="invoice_not_open",
        )
    sub = ctx.store.get(inv["subscription"])
    if get_bool(params, "paid_out_of_band"):
        before = rendered(ctx, inv)
        inv.update(
            status="paid",
            paid=True,
            paid_out_of_band=True,
            amount_remaining=0,
            next_payment_attempt=None,
            auto_advance=False,
        )
        inv["status_transitions"]["paid_at"] = ctx.now()
        after = rendered(ctx, inv)
        emit(ctx, "invoice.paid", after, diff(before, after))
        if sub is not None:
            _after_payment(ctx, sub, inv, True)
        return rendered(ctx, inv)
    pm = None
    pm_id = get_str(params, "payment_method")
    if pm_id is not None:
        pm = ctx.store.get(pm_id)
        if (
            pm is None
            or pm.get("object") != "payment_method"
            or pm.get("customer") != inv["customer"]
        ):
            raise invalid(
                f"No such PaymentMethod: '{pm_id}'", param="payment_method", code="resource_missing"
            )
    off_session = get_bool(params, "off_session")
    paid, decline = pay_invoice(
        ctx, inv, off_session=off_session is not False, manual=True, payment_method=pm
    )
    if paid:
        if sub is not None:
            _after_payment(ctx, sub, inv, True)
        return rendered(ctx, inv)
    assert decline is not None
    code, decline_code, message = decline
    raise card_declined(
        message, code, decline_code, {"charge": inv["charge"]} if inv["charge"] else None
    )


@api("GET", "/v1/invoices")
def list_invoices(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(
        ctx.store.all("invoices"),
        customer=get_str(params, "customer"),
        subscription=get_str(params, "subscription"),
        status=get_str(params, "status"),
    )
    return paginate(ctx, items, params, "/v1/invoices")
