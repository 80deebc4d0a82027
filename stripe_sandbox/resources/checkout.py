"""Checkout Sessions (payment and subscription mode) and what paying one does.

The hosted page (``hosted/checkout_page.py``) collects the card and calls
:func:`pay_session`; everything Stripe-visible happens here. Like current
Stripe, a payment-mode PaymentIntent is created when the customer first tries
to pay (not when the session is created), and the session's ``url`` becomes
null once it is complete or expired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..cards import DEFAULT_CARD, lookup, normalize
from ..errors import invalid, missing_param
from ..events import diff, emit
from ..expand import virtual
from ..formparse import apply_metadata, get_bool, get_dict, get_int, get_list, get_str
from ..ids import new_id, random_token
from ..listing import paginate, where
from ..router import api
from .billing import create_subscription
from .catalog import new_price
from .common import check_currency, rendered, require
from .customers import new_customer
from .payments import attach_payment_method, attempt_payment, new_payment_intent, new_payment_method

if TYPE_CHECKING:
    from ..core import Ctx

_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Params of payment_intent_data / subscription_data the sandbox understands; the rest of what
# Stripe accepts would change money movement (destination charges, trials...) and is refused.
_PI_DATA_OK = {
    "metadata",
    "transfer_group",
    "description",
    "receipt_email",
    "setup_future_usage",
    "statement_descriptor",
    "statement_descriptor_suffix",
}
_SUB_DATA_OK = {"metadata", "description", "default_tax_rates"}


def _check_url(params: dict[str, Any], name: str, required: bool) -> str | None:
    url = get_str(params, name, required=required)
    if url is not None and not _URL.match(url):
        raise invalid("Not a valid URL", param=name, code="url_invalid")
    return url


@dataclass
class _LineSpec:
    """A validated ``line_items[i]``: an existing price, or ``price_data`` to create later."""

    base: str  # the param name, e.g. "line_items[0]", for error messages
    quantity: int
    price: dict[str, Any] | None
    price_data: dict[str, Any]

    @property
    def currency(self) -> str:
        if self.price is not None:
            return str(self.price["currency"])
        return str(self.price_data["currency"]).lower()

    @property
    def recurring(self) -> tuple[str, int] | None:
        raw = (
            self.price["recurring"] if self.price is not None else self.price_data.get("recurring")
        )
        if not raw:
            return None
        return str(raw.get("interval")), int(raw.get("interval_count") or 1)


_LINE_ITEM_KEYS = {
    "price",
    "price_data",
    "quantity",
    "adjustable_quantity",
    "tax_rates",
    "dynamic_tax_rates",
}


def _line_item(ctx: Ctx, item: Any, base: str) -> _LineSpec:
    if not isinstance(item, dict):
        raise invalid("Invalid object", param=base)
    unknown = set(item) - _LINE_ITEM_KEYS
    if unknown:
        bad = sorted(unknown)[0]
        raise invalid(f"Received unknown parameter: {base}[{bad}]", param=f"{base}[{bad}]")
    price_id = get_str(item, "price", param=f"{base}[price]")
    price_data = get_dict(item, "price_data", param=f"{base}[price_data]")
    if price_id and price_data:
        raise invalid(
            f"You may only specify one of these parameters: {base}[price], {base}[price_data]."
        )
    if not price_id and not price_data:
        raise invalid(f"You must specify either `price` or `price_data` in `{base}`.", param=base)
    quantity = get_int(item, "quantity", minimum=1, param=f"{base}[quantity]")
    if quantity is None:
        raise invalid(
            f"Quantity is required. Add `quantity` to `{base}`.", param=f"{base}[quantity]"
        )
    price = None
    if price_id:
        price = require(ctx, price_id, "price", param=f"{base}[price]", status=400)
        if not price["active"]:
            raise invalid(
                "The price specified is inactive. This field only accepts active prices.",
                param=f"{base}[price]",
            )
    else:
        check_currency(
            get_str(price_data, "currency", required=True, param=f"{base}[price_data][currency]")
            or "",
            f"{base}[price_data][currency]",
        )
        if not price_data.get("product") and not price_data.get("product_data"):
            raise missing_param(f"{base}[price_data][product]")
    return _LineSpec(base, quantity, price, price_data)


def _line_items(ctx: Ctx, params: dict[str, Any], mode: str) -> list[_LineSpec]:
    """Validate ``line_items`` against the mode, creating nothing yet."""
    raw = params.get("line_items")
    if raw in (None, "", []):
        raise missing_param("line_items")
    if not isinstance(raw, list):
        raise invalid("Invalid array", param="line_items")
    specs = [_line_item(ctx, item, f"line_items[{i}]") for i, item in enumerate(raw)]
    for spec in specs:
        if mode == "payment" and spec.recurring:
            raise invalid(
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.",
                param=spec.base,
            )
        if mode == "subscription" and not spec.recurring:
            raise invalid(
                "The Stripe sandbox only supports recurring prices in `subscription` mode.",
                param=spec.base,
            )
    if len({spec.currency for spec in specs}) > 1:
        raise invalid("All line items must use the same currency.", param="line_items")
    if len({spec.recurring for spec in specs}) > 1:
        raise invalid(
            "All recurring prices in a subscription must share the same billing interval.",
            param="line_items",
        )
    return specs


def _nested_data(params: dict[str, Any], mode: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pi_data = get_dict(params, "payment_intent_data")
    sub_data = get_dict(params, "subscription_data")
    if pi_data and mode != "payment":
        raise invalid(
            "You can not pass `payment_intent_data` in `subscription` mode.",
            param="payment_intent_data",
        )
    if sub_data and mode != "subscription":
        raise invalid(
            "You can only pass `subscription_data` in `subscription` mode.",
            param="subscription_data",
        )
    for prefix, data, allowed in (
        ("payment_intent_data", pi_data, _PI_DATA_OK),
        ("subscription_data", sub_data, _SUB_DATA_OK),
    ):
        for name in sorted(set(data) - allowed):
            raise invalid(
                f"The Stripe sandbox does not support {prefix}[{name}].",
                param=f"{prefix}[{name}]",
            )
    return pi_data, sub_data


def _customer_params(
    ctx: Ctx, params: dict[str, Any], mode: str
) -> tuple[str | None, str | None, str | None]:
    customer_id = get_str(params, "customer")
    customer_email = get_str(params, "customer_email")
    if customer_id and customer_email:
        raise invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if customer_id:
        require(ctx, customer_id, "customer", param="customer", status=400)
    if customer_email and not _EMAIL.match(customer_email):
        raise invalid(
            "Invalid email address: " + customer_email, param="customer_email", code="email_invalid"
        )
    creation = get_str(params, "customer_creation")
    if creation not in (None, "always", "if_required"):
        raise invalid(
            "Invalid customer_creation: must be one of always or if_required",
            param="customer_creation",
        )
    if creation and mode != "payment":
        raise invalid(
            "`customer_creation` can only be used in `payment` mode.", param="customer_creation"
        )
    if customer_id:
        creation = None
    else:
        creation = creation or ("if_required" if mode == "payment" else "always")
    return customer_id, customer_email, creation


def _session_items(ctx: Ctx, specs: list[_LineSpec]) -> list[dict[str, Any]]:
    """Create inline prices (inactive, like Stripe's) and the session's ``item`` objects."""
    items = []
    for spec in specs:
        price = spec.price
        if price is None:
            data = {**spec.price_data, "active": "false"}
            price = new_price(ctx, data, announce=False, base=f"{spec.base}[price_data]")
        product = ctx.store.get(price["product"]) or {}
        amount = price["unit_amount"] * spec.quantity
        items.append(
            {
                "id": "li_" + random_token(24),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price["currency"],
                "description": product.get("name") or price["product"],
                "price": rendered(ctx, price),
                "quantity": spec.quantity,
            }
        )
    return items


@api("POST", "/v1/checkout/sessions")
def create_session(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    # Validate everything first so a rejected request leaves no inline prices behind.
    mode = get_str(params, "mode", required=True)
    if mode == "setup":
        raise invalid("The Stripe sandbox does not support `setup` mode.", param="mode")
    if mode not in ("payment", "subscription"):
        raise invalid("Invalid mode: must be one of payment, setup, or subscription", param="mode")
    success_url = _check_url(params, "success_url", True)
    cancel_url = _check_url(params, "cancel_url", True)
    customer_id, customer_email, customer_creation = _customer_params(ctx, params, mode)
    for pmt in get_list(params, "payment_method_types"):
        if pmt != "card":
            raise invalid(
                "The Stripe sandbox only supports the `card` payment method type.",
                param="payment_method_types",
            )
    specs = _line_items(ctx, params, mode)
    pi_data, sub_data = _nested_data(params, mode)
    client_reference_id = get_str(params, "client_reference_id")
    if client_reference_id is not None and len(client_reference_id) > 200:
        raise invalid(
            "client_reference_id must be at most 200 characters.", param="client_reference_id"
        )
    now = ctx.now()
    expires_at = get_int(params, "expires_at")
    if expires_at is not None and not now < expires_at <= now + 24 * 3600:
        raise invalid(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    metadata = apply_metadata({}, params)
    pi_metadata = apply_metadata({}, pi_data)
    sub_metadata = apply_metadata({}, sub_data)

    items = _session_items(ctx, specs)
    total = sum(i["amount_total"] for i in items)
    session_id = new_id("cs")
    session = {
        "id": session_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": get_bool(params, "allow_promotion_codes"),
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "status": None},
        "billing_address_collection": get_str(params, "billing_address_collection"),
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "consent": None,
        "consent_collection": None,
        "created": now,
        "currency": items[0]["currency"],
        "customer": customer_id,
        "customer_creation": customer_creation,
        "customer_details": None,
        "customer_email": customer_email,
        "expires_at": expires_at or now + ctx.config.checkout_expires_after,
        "livemode": False,
        "locale": get_str(params, "locale"),
        "metadata": metadata,
        "mode": mode,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "setup_intent": None,
        "shipping": None,
        "shipping_address_collection": None,
        "shipping_options": [],
        "shipping_rate": None,
        "status": "open",
        "submit_type": get_str(params, "submit_type"),
        "subscription": None,
        "success_url": success_url,
        "tax_id_collection": {"enabled": False},
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "url": f"{ctx.base_url}/pay/{session_id}",
    }
    ctx.store.insert(session)
    meta = ctx.store.meta(session_id)
    meta["line_items"] = items
    meta["payment_intent_data"] = {
        "metadata": pi_metadata,
        "transfer_group": get_str(pi_data, "transfer_group"),
        "description": get_str(pi_data, "description"),
        "receipt_email": get_str(pi_data, "receipt_email"),
        "setup_future_usage": get_str(pi_data, "setup_future_usage"),
    }
    meta["subscription_data"] = {"metadata": sub_metadata}
    # Stripe emits no event when a session is created.
    return rendered(ctx, session)


def line_items_list(
    ctx: Ctx, session: dict[str, Any], params: dict[str, Any] | None = None
) -> dict[str, Any]:
    items = ctx.store.peek_meta(session["id"]).get("line_items", [])
    url = f"/v1/checkout/sessions/{session['id']}/line_items"
    # paginate() serves newest first; line items keep their original order, hence reversed().
    return paginate(ctx, list(reversed(items)), params or {}, url, renderer=lambda item: dict(item))


@virtual("checkout.session", "line_items")
def _expand_line_items(ctx: Ctx, session: dict[str, Any]) -> dict[str, Any]:
    return line_items_list(ctx, session)


@api("GET", "/v1/checkout/sessions/{session}")
def retrieve_session(ctx: Ctx, params: dict[str, Any], session: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, session, "checkout.session"))


@api("GET", "/v1/checkout/sessions/{session}/line_items")
def list_session_line_items(ctx: Ctx, params: dict[str, Any], session: str) -> dict[str, Any]:
    return line_items_list(ctx, require(ctx, session, "checkout.session"), params)


@api("GET", "/v1/checkout/sessions")
def list_sessions(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    items = where(
        ctx.store.all("checkout_sessions"),
        payment_intent=get_str(params, "payment_intent"),
        subscription=get_str(params, "subscription"),
        customer=get_str(params, "customer"),
        status=get_str(params, "status"),
    )
    return paginate(ctx, items, params, "/v1/checkout/sessions")


def expire_session(ctx: Ctx, session: dict[str, Any]) -> dict[str, Any]:
    before = rendered(ctx, session)
    session["status"] = "expired"
    session["url"] = None
    pi = ctx.store.get(session["payment_intent"])
    if pi is not None and pi["status"] == "requires_payment_method":
        pi_before = rendered(ctx, pi)
        pi.update(status="canceled", canceled_at=ctx.now(), cancellation_reason="abandoned")
        pi_after = rendered(ctx, pi)
        emit(ctx, "payment_intent.canceled", pi_after, diff(pi_before, pi_after))
    ctx.store.touch()
    after = rendered(ctx, session)
    emit(ctx, "checkout.session.expired", after, diff(before, after))
    return after


@api("POST", "/v1/checkout/sessions/{session}/expire")
def expire_session_api(ctx: Ctx, params: dict[str, Any], session: str) -> dict[str, Any]:
    obj = require(ctx, session, "checkout.session")
    if obj["status"] != "open":
        raise invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired. '
            f'This session has status "{obj["status"]}".',
            param="session",
        )
    return expire_session(ctx, obj)


# --- paying (hosted page) -----------------------------------------------------------------------


@dataclass
class CardForm:
    number: str = ""
    exp_month: int = 12
    exp_year: int = 2034
    name: str | None = None
    email: str | None = None


@dataclass
class PayResult:
    ok: bool
    message: str | None = None
    field: str | None = None  # which form field the error belongs to


def _parse_expiry(text: str) -> tuple[int, int] | None:
    digits = re.findall(r"\d+", text or "")
    if len(digits) != 2:
        return None
    month, year = int(digits[0]), int(digits[1])
    year += 2000 if year < 100 else 0
    if not 1 <= month <= 12:
        return None
    return month, year


def card_form_from_post(form: dict[str, str]) -> CardForm | PayResult:
    number = normalize(form.get("card_number", "")) or DEFAULT_CARD  # blank = the placeholder card
    expiry = form.get("expiry", "").strip()
    exp = _parse_expiry(expiry) if expiry else (12, 2034)
    if exp is None:
        return PayResult(False, "Your card's expiration date is invalid.", "expiry")
    return CardForm(
        number,
        exp[0],
        exp[1],
        form.get("name", "").strip() or None,
        form.get("email", "").strip() or None,
    )


def session_email(ctx: Ctx, session: dict[str, Any]) -> str | None:
    email: str | None
    if session["customer"]:
        email = (ctx.store.get(session["customer"]) or {}).get("email")
    else:
        email = session["customer_email"]
    return email


def pay_session(ctx: Ctx, session: dict[str, Any], form: CardForm) -> PayResult:
    """Attempt to pay an open session; on success it is complete and events are emitted."""
    card = lookup(form.number)
    if card is None:
        return PayResult(False, "Your card number is invalid.", "card_number")
    email = session_email(ctx, session) or form.email
    if not email:
        return PayResult(False, "Enter your email address.", "email")
    if not _EMAIL.match(email):
        return PayResult(False, "Your email address is invalid.", "email")
    meta = ctx.store.peek_meta(session["id"])
    if session["mode"] == "subscription" and card.decline:
        # Nothing is created for a declined subscription signup.
        return PayResult(False, card.decline[2], "card_number")

    customer_id = session["customer"]
    if customer_id is None and (
        session["mode"] == "subscription" or session["customer_creation"] == "always"
    ):
        customer_id = new_customer(ctx, email=email, name=form.name)["id"]
    pm = new_payment_method(
        ctx,
        number=form.number,
        card=card,
        exp_month=form.exp_month,
        exp_year=form.exp_year,
        name=form.name,
        email=email,
    )
    if customer_id:
        attach_payment_method(ctx, pm, customer_id)

    if session["mode"] == "payment":
        pi = ctx.store.get(session["payment_intent"])
        if pi is None:
            pid = meta.get("payment_intent_data", {})
            pi = new_payment_intent(
                ctx,
                amount=session["amount_total"],
                currency=session["currency"],
                customer=customer_id,
                description=pid.get("description"),
                metadata=pid.get("metadata"),
                transfer_group=pid.get("transfer_group"),
                receipt_email=pid.get("receipt_email"),
                setup_future_usage=pid.get("setup_future_usage"),
            )
            session["payment_intent"] = pi["id"]
        elif customer_id and pi["customer"] is None:
            pi["customer"] = customer_id
        _charge, decline = attempt_payment(ctx, pi, pm, off_session=False)
        if decline is not None:
            ctx.store.touch()
            return PayResult(False, decline[2], "card_number")
    else:
        customer = ctx.store.get(customer_id)
        assert customer is not None
        before = rendered(ctx, customer)
        customer["invoice_settings"]["default_payment_method"] = pm["id"]
        after = rendered(ctx, customer)
        emit(ctx, "customer.updated", after, diff(before, after))
        prices = [
            (ctx.store.get(i["price"]["id"]) or i["price"], i["quantity"])
            for i in meta["line_items"]
        ]
        sub, paid = create_subscription(
            ctx,
            customer_id=customer_id,
            items=prices,
            metadata=meta.get("subscription_data", {}).get("metadata", {}),
            payment_method=pm["id"],
        )
        session["subscription"] = sub["id"]
        if not paid:  # pragma: no cover - declines are caught above
            return PayResult(False, "Your card was declined.", "card_number")

    session.update(
        status="complete",
        payment_status="paid",
        customer=customer_id,
        url=None,
        customer_details={
            "address": None,
            "email": email,
            "name": form.name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
    )
    ctx.store.touch()
    emit(ctx, "checkout.session.completed", rendered(ctx, session))
    return PayResult(True)


def success_redirect(session: dict[str, Any]) -> str:
    url: str = session["success_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"])
