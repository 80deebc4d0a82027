"""Hosted Checkout: paying by plain HTTP form posts in both modes, declines, cancel, expiry."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import stripe

from stripe_sandbox.testing import hook, http, submit_checkout

from .helpers import (
    CANCEL_URL,
    DECLINED_CARD,
    advance,
    catalog,
    event_types,
    pay,
    payment_session,
    subscription_session,
)


def test_payment_mode_paid_by_form_post(sdk, sandbox) -> None:
    price = catalog()["one_time"]
    session = payment_session(price.id)
    assert session.id.startswith("cs_test_")
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.url == f"{sandbox.url}/pay/{session.id}"
    assert session.amount_total == 1500
    assert session.payment_intent is None

    page = http("GET", session.url)
    assert page.status == 200
    assert "text/html" in page.headers["content-type"]

    result = submit_checkout(session.url, "4242 4242 4242 4242", email="ignored@example.com")
    assert result.status == 303
    assert result.location == f"https://clearmix.test/checkout/success?session_id={session.id}"

    done = stripe.checkout.Session.retrieve(session.id, expand=["payment_intent.latest_charge"])
    assert done.status == "complete"
    assert done.payment_status == "paid"
    assert done.url is None
    assert done.customer is None  # payment mode does not create customers by default
    assert done.customer_details.email == "fan@example.com"
    assert done.client_reference_id == "user_7"
    assert done.metadata.to_dict() == {"order": "42"}
    pi = done.payment_intent
    assert pi.id.startswith("pi_")
    assert pi.status == "succeeded"
    assert pi.amount_received == 1500
    assert pi.transfer_group == "order_42"
    assert pi.metadata.to_dict() == {"order": "42"}
    charge = pi.latest_charge
    assert charge.id.startswith("ch_")
    assert charge.status == "succeeded" and charge.paid and charge.captured
    assert charge.transfer_group == "order_42"
    assert charge.payment_method_details.card.last4 == "4242"
    assert [c.id for c in stripe.PaymentIntent.retrieve(pi.id).charges.data] == [charge.id]
    txn = stripe.BalanceTransaction.retrieve(charge.balance_transaction)
    assert txn.id.startswith("txn_")
    assert (txn.amount, txn.net, txn.fee, txn.type, txn.source) == (
        1500,
        1500,
        0,
        "charge",
        charge.id,
    )
    assert stripe.Balance.retrieve().available[0].amount == 1500

    types = event_types()
    assert types[types.index("payment_intent.created") :] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    completed = stripe.Event.list(type="checkout.session.completed").data[0]
    assert completed.data.object.id == session.id
    assert completed.request.id is None  # caused by the customer, not an API request

    # Paying again (double submit) lands on the success URL without charging twice.
    again = submit_checkout(session.url)
    assert again.status == 303
    assert len(stripe.Charge.list().data) == 1


def test_declined_card_shows_error_and_session_stays_open(sdk) -> None:
    session = payment_session(catalog()["one_time"].id)
    declined = submit_checkout(session.url, DECLINED_CARD)
    assert declined.status == 402
    assert re.search(
        r'<div class="error" role="alert" id="form-error">Your card was declined.</div>',
        declined.text,
    )
    assert 'aria-invalid="true"' in declined.text
    still = stripe.checkout.Session.retrieve(session.id, expand=["payment_intent"])
    assert still.status == "open"
    assert still.payment_status == "unpaid"
    assert still.payment_intent.status == "requires_payment_method"
    assert still.payment_intent.last_payment_error.decline_code == "generic_decline"
    failed = stripe.Charge.list().data[0]
    assert (failed.status, failed.failure_code, failed.paid) == ("failed", "card_declined", False)
    assert event_types()[-3:] == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
    ]
    assert stripe.Balance.retrieve().available[0].amount == 0

    # Retrying with a good card reuses the payment intent.
    done = pay(session)
    assert done.payment_intent.id == still.payment_intent.id
    assert done.payment_intent.status == "succeeded"
    assert len(stripe.PaymentIntent.retrieve(done.payment_intent.id).charges.data) == 2


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("4000000000009995", "Your card has insufficient funds."),
        ("1234 5678", "Your card number is invalid."),
    ],
)
def test_other_card_errors(sdk, card: str, message: str) -> None:
    session = payment_session(catalog()["one_time"].id)
    result = submit_checkout(session.url, card)
    assert result.status == 402
    assert message in result.text


def test_cancel_redirects_and_leaves_session_open(sdk) -> None:
    session = payment_session(catalog()["one_time"].id)
    result = submit_checkout(session.url, action="cancel")
    assert result.status == 303
    assert result.location == CANCEL_URL
    assert stripe.checkout.Session.retrieve(session.id).status == "open"


def test_email_is_required_when_unknown(sdk) -> None:
    session = payment_session(catalog()["one_time"].id, customer_email=None)
    page = http("GET", session.url).text
    assert '<label for="email">Email</label>' in page
    missing = submit_checkout(session.url)
    assert missing.status == 400
    assert "Enter your email address." in missing.text
    ok = submit_checkout(session.url, email="walkin@example.com")
    assert ok.status == 303
    assert (
        stripe.checkout.Session.retrieve(session.id).customer_details.email == "walkin@example.com"
    )


def test_customer_creation_always_and_existing_customer(sdk) -> None:
    price = catalog()["one_time"]
    created = pay(payment_session(price.id, customer_creation="always"))
    assert created.customer.startswith("cus_")
    assert stripe.Customer.retrieve(created.customer).email == "fan@example.com"
    assert created.payment_intent.customer == created.customer

    existing = stripe.Customer.create(email="known@example.com")
    session = payment_session(price.id, customer=existing.id, customer_email=None)
    done = pay(session)
    assert done.customer == existing.id
    pm = stripe.PaymentMethod.retrieve(
        stripe.Charge.retrieve(done.payment_intent.latest_charge).payment_method
    )
    assert pm.customer == existing.id


def test_subscription_mode_paid_by_form_post(sdk) -> None:
    monthly = catalog()["monthly"]
    session = subscription_session(monthly.id)
    result = submit_checkout(session.url, "4242424242424242", name="Sub Scriber")
    assert result.status == 303
    done = stripe.checkout.Session.retrieve(session.id, expand=["subscription.latest_invoice"])
    assert done.status == "complete" and done.payment_status == "paid"
    assert done.customer.startswith("cus_")
    sub = done.subscription
    assert sub.id.startswith("sub_")
    assert sub.status == "active"
    assert sub.customer == done.customer
    assert sub.metadata.to_dict() == {"plan": "premium"}
    assert sub["items"].data[0].price.id == monthly.id
    assert sub.current_period_end > sub.current_period_start
    invoice = sub.latest_invoice
    assert invoice.id.startswith("in_")
    assert (invoice.status, invoice.paid, invoice.amount_paid) == ("paid", True, 900)
    assert invoice.billing_reason == "subscription_create"
    assert invoice.lines.data[0].period.end == sub.current_period_end
    customer = stripe.Customer.retrieve(done.customer)
    assert customer.email == "subscriber@example.com"
    assert customer.name == "Sub Scriber"
    assert customer.invoice_settings.default_payment_method.startswith("pm_")

    assert event_types() == [
        "product.created",
        "price.created",
        "price.created",
        "customer.created",
        "payment_method.attached",
        "customer.updated",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
        "checkout.session.completed",
    ]
    updated = stripe.Event.list(type="customer.subscription.updated").data[0]
    assert updated.data.previous_attributes.status == "incomplete"


def test_subscription_mode_decline_creates_nothing(sdk) -> None:
    session = subscription_session(catalog()["monthly"].id)
    result = submit_checkout(session.url, DECLINED_CARD)
    assert result.status == 402
    assert stripe.Subscription.list(status="all").data == []
    assert stripe.Customer.list().data == []
    assert stripe.checkout.Session.retrieve(session.id).status == "open"


def test_expire_api_and_clock_expiry(sdk, sandbox) -> None:
    price = catalog()["one_time"]
    session = payment_session(price.id)
    expired = stripe.checkout.Session.expire(session.id)
    assert expired.status == "expired"
    assert expired.url is None
    assert event_types()[-1] == "checkout.session.expired"
    assert http("GET", session.url).status == 410
    assert submit_checkout(session.url).status == 410
    with pytest.raises(stripe.InvalidRequestError):
        stripe.checkout.Session.expire(session.id)

    later = payment_session(price.id)
    assert later.expires_at - later.created == 24 * 3600
    result = advance(sandbox, hours=25)
    assert stripe.checkout.Session.retrieve(later.id).status == "expired"
    assert [stripe.Event.retrieve(e).type for e in result["events"]] == ["checkout.session.expired"]


def test_session_validation_errors(sdk) -> None:
    items = catalog()
    base = {"success_url": "https://x.test/s", "cancel_url": "https://x.test/c"}
    cases = [
        (
            {"mode": "payment", "line_items": [{"price": items["monthly"].id, "quantity": 1}]},
            "line_items[0]",
        ),
        ({"mode": "payment"}, "line_items"),
        (
            {"mode": "payment", "line_items": [{"price": items["one_time"].id}]},
            "line_items[0][quantity]",
        ),
        (
            {"mode": "payment", "line_items": [{"price": "price_missing", "quantity": 1}]},
            "line_items[0][price]",
        ),
        (
            {
                "mode": "payment",
                "line_items": [{"price": items["one_time"].id, "quantity": 1}],
                "customer": "cus_x",
                "customer_email": "a@b.co",
            },
            "customer_email",
        ),
        (
            {
                "mode": "subscription",
                "line_items": [{"price": items["monthly"].id, "quantity": 1}],
                "payment_intent_data": {"metadata": {"a": "b"}},
            },
            "payment_intent_data",
        ),
        ({"line_items": [{"price": items["one_time"].id, "quantity": 1}]}, "mode"),
    ]
    for params, param in cases:
        with pytest.raises(stripe.InvalidRequestError) as info:
            stripe.checkout.Session.create(**base, **params)
        assert info.value.param == param, (params, info.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as no_success:
        stripe.checkout.Session.create(
            mode="payment",
            cancel_url="https://x.test/c",
            line_items=[{"price": items["one_time"].id, "quantity": 1}],
        )
    assert no_success.value.param == "success_url"
    mixed = [
        {"price": items["one_time"].id, "quantity": 1},
        {
            "price_data": {"currency": "eur", "unit_amount": 5, "product_data": {"name": "x"}},
            "quantity": 1,
        },
    ]
    with pytest.raises(stripe.InvalidRequestError) as currencies:
        stripe.checkout.Session.create(**base, mode="payment", line_items=mixed)
    assert currencies.value.param == "line_items"
    # Nothing half-created by the failures above (no session, no inline price or product).
    assert stripe.checkout.Session.list().data == []
    assert len(stripe.Price.list().data) == 2
    assert len(stripe.Product.list().data) == 1


def test_price_data_line_items(sdk) -> None:
    session = stripe.checkout.Session.create(
        mode="payment",
        line_items=[
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 250,
                    "product_data": {"name": "Stem"},
                },
                "quantity": 3,
            }
        ],
        success_url="https://x.test/s",
        cancel_url="https://x.test/c",
    )
    assert (session.amount_total, session.currency) == (750, "eur")
    items = stripe.checkout.Session.list_line_items(session.id)
    assert items.data[0].description == "Stem"
    assert items.data[0].price.active is False  # inline prices are not catalog prices
    assert "€7.50" in http("GET", session.url).text


class _FormAudit(HTMLParser):
    """Collects what an accessibility review of the checkout form looks at."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.inputs: list[dict[str, str | None]] = []
        self.buttons: list[str] = []
        self.external: list[str] = []
        self.lang: str | None = None
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        if tag == "html":
            self.lang = data.get("lang")
        if tag == "label" and data.get("for"):
            self.labels.add(data["for"] or "")
        if tag == "input":
            self.inputs.append(data)
        if tag == "button":
            self._in_button = True
            self.buttons.append("")
        if tag in ("script", "link", "img", "iframe") or (tag == "link" and data.get("href")):
            self.external.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button:
            self.buttons[-1] += data.strip()


def test_checkout_page_is_accessible_and_self_contained(sdk) -> None:
    session = payment_session(catalog()["one_time"].id, customer_email=None)
    audit = _FormAudit()
    audit.feed(http("GET", session.url).text)
    assert audit.lang == "en"
    assert audit.buttons == ["Pay", "Cancel"]
    assert audit.external == []
    ids = [i.get("id") for i in audit.inputs]
    assert {"email", "card_number", "expiry", "cvc", "name"} <= set(ids)
    for field in audit.inputs:
        assert field.get("id") in audit.labels, field
        assert field.get("name") == field.get("id")
    card = next(i for i in audit.inputs if i.get("id") == "card_number")
    assert card.get("placeholder") == "4242 4242 4242 4242"
    assert card.get("autocomplete") == "cc-number"


def test_unknown_session_page(sandbox) -> None:
    assert http("GET", f"{sandbox.url}/pay/cs_test_nope").status == 404


def test_success_url_placeholder_and_list_filters(sdk) -> None:
    price = catalog()["one_time"]
    done = pay(payment_session(price.id))
    assert stripe.checkout.Session.list(payment_intent=done.payment_intent.id).data[0].id == done.id
    assert hook(stripe.api_base, f"objects/{done.id}")["object"]["status"] == "complete"
