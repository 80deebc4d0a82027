"""Products and prices: create / retrieve / list (prices filterable by lookup_keys etc.)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import invalid, missing_param
from ..events import emit
from ..formparse import apply_metadata, get_bool, get_dict, get_int, get_list, get_str, param_name
from ..ids import new_id
from ..listing import paginate, where
from ..router import api
from .common import check_currency, rendered, require

if TYPE_CHECKING:
    from ..core import Ctx

INTERVALS = ("day", "week", "month", "year")


def new_product(
    ctx: Ctx, params: dict[str, Any], *, announce: bool = True, base: str = ""
) -> dict[str, Any]:
    name = get_str(params, "name", required=True, param=param_name(base, "name"))
    custom_id = get_str(params, "id")
    if custom_id is not None:
        if not custom_id.startswith("prod_"):
            # The store finds objects by id prefix; custom ids must keep the product prefix.
            raise invalid(
                "The sandbox requires custom product ids to start with 'prod_'.", param="id"
            )
        if ctx.store.get(custom_id) is not None:
            raise invalid("Product already exists.", param="id", code="resource_already_exists")
    now = ctx.now()
    product = {
        "id": custom_id or new_id("prod"),
        "object": "product",
        "active": get_bool(params, "active") is not False,
        "created": now,
        "description": get_str(params, "description"),
        "images": [str(x) for x in get_list(params, "images")],
        "livemode": False,
        "metadata": apply_metadata({}, params),
        "name": name,
        "package_dimensions": None,
        "shippable": get_bool(params, "shippable"),
        "statement_descriptor": get_str(params, "statement_descriptor"),
        "tax_code": get_str(params, "tax_code"),
        "unit_label": get_str(params, "unit_label"),
        "updated": now,
        "url": get_str(params, "url"),
    }
    ctx.store.insert(product)
    if announce:
        emit(ctx, "product.created", rendered(ctx, product))
    return product


def new_price(
    ctx: Ctx, params: dict[str, Any], *, announce: bool = True, base: str = ""
) -> dict[str, Any]:
    """Create a price from ``prices.create`` params or from Checkout's ``price_data`` (``base``
    is then the nested param name, e.g. ``line_items[0][price_data]``, used in error messages)."""

    def label(*parts: str) -> str:
        return param_name(base, *parts)

    currency = check_currency(
        get_str(params, "currency", required=True, param=label("currency")) or "", label("currency")
    )
    product_id = get_str(params, "product")
    product_data = get_dict(params, "product_data", param=label("product_data"))
    if product_id and product_data:
        raise invalid(
            "You may only specify one of these parameters: product, product_data.",
            param=label("product"),
        )
    if product_id:
        product = require(ctx, product_id, "product", param=label("product"), status=400)
    elif product_data:
        product = new_product(ctx, product_data, announce=announce, base=label("product_data"))
    else:
        raise missing_param(label("product"))
    unit_amount = get_int(params, "unit_amount", minimum=0, param=label("unit_amount"))
    decimal = get_str(params, "unit_amount_decimal", param=label("unit_amount_decimal"))
    if unit_amount is None and decimal is not None:
        try:
            unit_amount = round(float(decimal))
        except ValueError as exc:
            raise invalid(
                f"Invalid decimal: {decimal}", param=label("unit_amount_decimal")
            ) from exc
    if unit_amount is None:
        raise missing_param(label("unit_amount"))
    recurring_raw = get_dict(params, "recurring", param=label("recurring"))
    recurring = None
    if recurring_raw:
        interval = get_str(
            recurring_raw, "interval", required=True, param=label("recurring", "interval")
        )
        if interval not in INTERVALS:
            raise invalid(
                f"Invalid recurring[interval]: must be one of {', '.join(INTERVALS)}",
                param=label("recurring", "interval"),
            )
        count = (
            get_int(
                recurring_raw,
                "interval_count",
                minimum=1,
                param=label("recurring", "interval_count"),
            )
            or 1
        )
        usage = get_str(recurring_raw, "usage_type") or "licensed"
        if usage != "licensed":
            raise invalid(
                "The sandbox only supports licensed (non-metered) prices.",
                param=label("recurring", "usage_type"),
            )
        recurring = {
            "aggregate_usage": None,
            "interval": interval,
            "interval_count": count,
            "usage_type": usage,
        }
    lookup_key = get_str(params, "lookup_key")
    if lookup_key is not None:
        holder = next(
            (p for p in ctx.store.all("prices") if p.get("lookup_key") == lookup_key), None
        )
        if holder is not None:
            if get_bool(params, "transfer_lookup_key"):
                holder["lookup_key"] = None
            else:
                raise invalid(
                    f"A price (`{holder['id']}`) already uses that lookup key.", param="lookup_key"
                )
    tax_behavior = get_str(params, "tax_behavior") or "unspecified"
    price = {
        "id": new_id("price"),
        "object": "price",
        "active": get_bool(params, "active") is not False,
        "billing_scheme": "per_unit",
        "created": ctx.now(),
        "currency": currency,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": apply_metadata({}, params),
        "nickname": get_str(params, "nickname"),
        "product": product["id"],
        "recurring": recurring,
        "tax_behavior": tax_behavior,
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    ctx.store.insert(price)
    if announce:
        emit(ctx, "price.created", rendered(ctx, price))
    return price


@api("POST", "/v1/products")
def create_product(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return rendered(ctx, new_product(ctx, params))


@api("GET", "/v1/products/{id}")
def retrieve_product(ctx: Ctx, params: dict[str, Any], id: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, id, "product"))


@api("GET", "/v1/products")
def list_products(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(ctx.store.all("products"), active=get_bool(params, "active"))
    ids = get_list(params, "ids")
    if ids:
        items = [p for p in items if p["id"] in ids]
    return paginate(ctx, items, params, "/v1/products")


@api("POST", "/v1/prices")
def create_price(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    if get_str(params, "billing_scheme") not in (None, "per_unit") or params.get("tiers"):
        raise invalid("The sandbox only supports per_unit prices.", param="billing_scheme")
    return rendered(ctx, new_price(ctx, params))


@api("GET", "/v1/prices/{price}")
def retrieve_price(ctx: Ctx, params: dict[str, Any], price: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, price, "price"))


@api("GET", "/v1/prices")
def list_prices(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    currency = get_str(params, "currency")
    items = where(
        ctx.store.all("prices"),
        active=get_bool(params, "active"),
        product=get_str(params, "product"),
        type=get_str(params, "type"),
        currency=currency.lower() if currency else None,
    )
    lookup_keys = [str(k) for k in get_list(params, "lookup_keys")]
    if lookup_keys:
        items = [p for p in items if p.get("lookup_key") in lookup_keys]
    recurring = get_dict(params, "recurring")
    interval = get_str(recurring, "interval", param="recurring[interval]")
    if interval:
        items = [p for p in items if p["recurring"] and p["recurring"]["interval"] == interval]
    usage = get_str(recurring, "usage_type", param="recurring[usage_type]")
    if usage:
        items = [p for p in items if p["recurring"] and p["recurring"]["usage_type"] == usage]
    return paginate(ctx, items, params, "/v1/prices")
