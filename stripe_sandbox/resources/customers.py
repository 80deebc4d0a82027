"""Customers: create / retrieve / update / list."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..events import diff, emit
from ..formparse import apply_metadata, get_dict, get_int, get_list, get_str
from ..listing import paginate, where
from ..router import api
from .common import parse_address, rendered, require

if TYPE_CHECKING:
    from ..core import Ctx


def new_customer(
    ctx: Ctx, *, email: str | None, name: str | None = None, **fields: Any
) -> dict[str, Any]:
    """Build, store and announce (customer.created) a customer; used by the API and by Checkout."""
    from ..ids import new_id

    customer = {
        "id": new_id("cus"),
        "object": "customer",
        "address": fields.get("address"),
        "balance": fields.get("balance") or 0,
        "created": ctx.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": fields.get("description"),
        "discount": None,
        "email": email,
        "invoice_prefix": fields.get("invoice_prefix") or secrets.token_hex(4).upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
        "livemode": False,
        "metadata": fields.get("metadata") or {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": fields.get("phone"),
        "preferred_locales": fields.get("preferred_locales") or [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    ctx.store.insert(customer)
    emit(ctx, "customer.created", rendered(ctx, customer))
    return customer


def _locales(params: dict[str, Any]) -> list[str] | None:
    if "preferred_locales" not in params:
        return None
    return [str(x) for x in get_list(params, "preferred_locales")]


@api("POST", "/v1/customers")
def create_customer(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    prefix = get_str(params, "invoice_prefix")
    if prefix is not None and not (
        3 <= len(prefix) <= 12 and prefix.isalnum() and prefix.isupper()
    ):
        raise invalid(
            "Invoice prefix must be 3-12 uppercase letters or numbers.", param="invoice_prefix"
        )
    customer = new_customer(
        ctx,
        email=get_str(params, "email"),
        name=get_str(params, "name"),
        phone=get_str(params, "phone"),
        description=get_str(params, "description"),
        address=parse_address(params),
        balance=get_int(params, "balance"),
        invoice_prefix=prefix,
        metadata=apply_metadata({}, params),
        preferred_locales=_locales(params),
    )
    return rendered(ctx, customer)


@api("GET", "/v1/customers/{customer}")
def retrieve_customer(ctx: Ctx, params: dict[str, Any], customer: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, customer, "customer"))


@api("POST", "/v1/customers/{customer}")
def update_customer(ctx: Ctx, params: dict[str, Any], customer: str) -> dict[str, Any]:
    obj = require(ctx, customer, "customer")
    before = rendered(ctx, obj)
    for field in ("email", "name", "phone", "description"):
        if field in params:
            obj[field] = get_str(params, field)
    if "address" in params:
        obj["address"] = parse_address(params)
    if "balance" in params:
        obj["balance"] = get_int(params, "balance") or 0
    locales = _locales(params)
    if locales is not None:
        obj["preferred_locales"] = locales
    settings = get_dict(params, "invoice_settings")
    if "default_payment_method" in settings:
        pm_id = get_str(
            settings, "default_payment_method", param="invoice_settings[default_payment_method]"
        )
        if pm_id is not None:
            pm = ctx.store.get(pm_id)
            if pm is None or pm.get("customer") != obj["id"]:
                raise invalid(
                    f"No such PaymentMethod: '{pm_id}'; It's possible this PaymentMethod exists "
                    "on one of your connected accounts, in which case you should retry this "
                    "request on that connected account.",
                    param="invoice_settings[default_payment_method]",
                    code="resource_missing",
                )
        obj["invoice_settings"]["default_payment_method"] = pm_id
    obj["metadata"] = apply_metadata(obj["metadata"], params)
    after = rendered(ctx, obj)
    changes = diff(before, after)
    ctx.store.touch()
    if changes:
        emit(ctx, "customer.updated", after, changes)
    return after


@api("GET", "/v1/customers")
def list_customers(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(ctx.store.all("customers"), email=get_str(params, "email"))
    return paginate(ctx, items, params, "/v1/customers")
