"""Every operation the sandbox serves, called through the real SDK, validated against
Stripe's OpenAPI spec (2020-08-27) -- plus every event payload and error body.

``COVERAGE`` must name every entry of ``stripe_sandbox.served_operations()``; adding a route
without adding a call here fails ``test_every_served_operation_is_covered``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe

import stripe_sandbox
from stripe_sandbox import openapi
from stripe_sandbox.testing import WebhookReceiver, hook

from .conftest import FAST_RETRIES, WEBHOOK_SECRET, point_sdk
from .helpers import (
    advance,
    catalog,
    express_account,
    onboard,
    paid_payment,
    paid_subscription,
)


def raw(obj: Any) -> Any:
    """The JSON body exactly as the server sent it (not the SDK's object wrapper)."""
    return obj.last_response.data


class World:
    """One of everything, built once for the module."""

    def __init__(self, server: stripe_sandbox.SandboxServer) -> None:
        self.server = server
        self.catalog = catalog()
        self.customer = stripe.Customer.create(email="schema@example.com", name="Schema Fan")
        self.session, self.charge = paid_payment(self.catalog["one_time"].id)
        self.subscription = paid_subscription(self.catalog["monthly"].id)
        self.account = express_account()
        onboard(self.account.id)
        self.transfer = stripe.Transfer.create(
            amount=500, currency="usd", destination=self.account.id, transfer_group="order_42"
        )
        self.reversal = stripe.Transfer.create_reversal(self.transfer.id, amount=100)
        self.refund = stripe.Refund.create(charge=self.charge.id, amount=300)
        _other_session, other_charge = paid_payment(self.catalog["one_time"].id)
        self.dispute = hook(
            server.url, f"charges/{other_charge.id}/dispute", {"reason": "fraudulent"}
        )
        self.event = stripe.Event.list(limit=1).data[0]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    receiver = WebhookReceiver()
    server = stripe_sandbox.start(
        port=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET, **FAST_RETRIES
    )
    with pytest.MonkeyPatch.context() as mp:
        point_sdk(mp, server.url)
        yield World(server)
    server.stop()
    receiver.stop()


Call = Callable[[World], Any]

COVERAGE: dict[tuple[str, str], Call] = {
    ("POST", "/v1/customers"): lambda w: raw(
        stripe.Customer.create(email="new@example.com", metadata={"a": "b"})
    ),
    ("GET", "/v1/customers/{customer}"): lambda w: raw(stripe.Customer.retrieve(w.customer.id)),
    ("POST", "/v1/customers/{customer}"): lambda w: raw(
        stripe.Customer.modify(w.customer.id, name="Renamed", address={"country": "US"})
    ),
    ("GET", "/v1/customers"): lambda w: raw(stripe.Customer.list(limit=3)),
    ("POST", "/v1/products"): lambda w: raw(stripe.Product.create(name="Stems")),
    ("GET", "/v1/products/{id}"): lambda w: raw(stripe.Product.retrieve(w.catalog["product"].id)),
    ("GET", "/v1/products"): lambda w: raw(stripe.Product.list()),
    ("POST", "/v1/prices"): lambda w: raw(
        stripe.Price.create(
            currency="usd",
            unit_amount=100,
            product_data={"name": "Tip"},
            recurring={"interval": "year"},
        )
    ),
    ("GET", "/v1/prices/{price}"): lambda w: raw(stripe.Price.retrieve(w.catalog["monthly"].id)),
    ("GET", "/v1/prices"): lambda w: raw(stripe.Price.list(lookup_keys=["premium_monthly"])),
    ("POST", "/v1/checkout/sessions"): lambda w: raw(
        stripe.checkout.Session.create(
            mode="payment",
            line_items=[
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 700,
                        "product_data": {"name": "One-off"},
                    },
                    "quantity": 2,
                }
            ],
            success_url="https://x.test/s",
            cancel_url="https://x.test/c",
        )
    ),
    ("GET", "/v1/checkout/sessions/{session}"): lambda w: raw(
        stripe.checkout.Session.retrieve(
            w.session.id, expand=["payment_intent.latest_charge", "line_items", "customer"]
        )
    ),
    ("GET", "/v1/checkout/sessions"): lambda w: raw(
        stripe.checkout.Session.list(expand=["data.subscription"])
    ),
    ("GET", "/v1/checkout/sessions/{session}/line_items"): lambda w: raw(
        stripe.checkout.Session.list_line_items(w.session.id)
    ),
    ("POST", "/v1/checkout/sessions/{session}/expire"): lambda w: raw(
        stripe.checkout.Session.expire(
            stripe.checkout.Session.create(
                mode="subscription",
                line_items=[{"price": w.catalog["monthly"].id, "quantity": 1}],
                success_url="https://x.test/s",
                cancel_url="https://x.test/c",
            ).id
        )
    ),
    ("GET", "/v1/payment_intents/{intent}"): lambda w: raw(
        stripe.PaymentIntent.retrieve(w.session.payment_intent.id)
    ),
    ("GET", "/v1/payment_intents"): lambda w: raw(stripe.PaymentIntent.list()),
    ("GET", "/v1/charges/{charge}"): lambda w: raw(stripe.Charge.retrieve(w.charge.id)),
    ("GET", "/v1/charges"): lambda w: raw(stripe.Charge.list(transfer_group="order_42")),
    ("GET", "/v1/payment_methods/{payment_method}"): lambda w: raw(
        stripe.PaymentMethod.retrieve(w.charge.payment_method)
    ),
    ("GET", "/v1/balance_transactions/{id}"): lambda w: raw(
        stripe.BalanceTransaction.retrieve(w.charge.balance_transaction)
    ),
    ("GET", "/v1/balance_transactions"): lambda w: raw(stripe.BalanceTransaction.list()),
    ("POST", "/v1/refunds"): lambda w: raw(stripe.Refund.create(charge=w.charge.id, amount=100)),
    ("GET", "/v1/refunds/{refund}"): lambda w: raw(stripe.Refund.retrieve(w.refund.id)),
    ("GET", "/v1/refunds"): lambda w: raw(stripe.Refund.list(charge=w.charge.id)),
    ("GET", "/v1/disputes/{dispute}"): lambda w: raw(stripe.Dispute.retrieve(w.dispute["id"])),
    ("GET", "/v1/disputes"): lambda w: raw(stripe.Dispute.list()),
    ("GET", "/v1/subscriptions/{subscription_exposed_id}"): lambda w: raw(
        stripe.Subscription.retrieve(w.subscription.id, expand=["latest_invoice.payment_intent"])
    ),
    ("GET", "/v1/subscriptions"): lambda w: raw(stripe.Subscription.list(status="all")),
    ("POST", "/v1/subscriptions/{subscription_exposed_id}"): lambda w: raw(
        stripe.Subscription.modify(w.subscription.id, metadata={"touched": "yes"})
    ),
    ("DELETE", "/v1/subscriptions/{subscription_exposed_id}"): lambda w: raw(
        stripe.Subscription.cancel(paid_subscription(w.catalog["monthly"].id).id)
    ),
    ("GET", "/v1/invoices/{invoice}"): lambda w: raw(
        stripe.Invoice.retrieve(w.subscription.latest_invoice)
    ),
    ("GET", "/v1/invoices"): lambda w: raw(stripe.Invoice.list(customer=w.subscription.customer)),
    ("POST", "/v1/invoices/{invoice}/pay"): lambda w: raw(stripe.Invoice.pay(_open_invoice(w))),
    ("POST", "/v1/accounts"): lambda w: raw(express_account("another@example.com")),
    ("GET", "/v1/accounts/{account}"): lambda w: raw(stripe.Account.retrieve(w.account.id)),
    ("POST", "/v1/accounts/{account}"): lambda w: raw(
        stripe.Account.modify(w.account.id, metadata={"tier": "gold"})
    ),
    ("GET", "/v1/accounts"): lambda w: raw(stripe.Account.list()),
    ("POST", "/v1/account_links"): lambda w: raw(
        stripe.AccountLink.create(
            account=w.account.id,
            refresh_url="https://x.test/r",
            return_url="https://x.test/r",
            type="account_onboarding",
        )
    ),
    ("POST", "/v1/transfers"): lambda w: raw(
        stripe.Transfer.create(amount=50, currency="usd", destination=w.account.id)
    ),
    ("GET", "/v1/transfers/{transfer}"): lambda w: raw(stripe.Transfer.retrieve(w.transfer.id)),
    ("GET", "/v1/transfers"): lambda w: raw(stripe.Transfer.list(destination=w.account.id)),
    ("POST", "/v1/transfers/{id}/reversals"): lambda w: raw(
        stripe.Transfer.create_reversal(w.transfer.id, amount=10)
    ),
    ("GET", "/v1/transfers/{id}/reversals"): lambda w: raw(
        stripe.Transfer.list_reversals(w.transfer.id)
    ),
    ("GET", "/v1/transfers/{transfer}/reversals/{id}"): lambda w: raw(
        stripe.Transfer.retrieve_reversal(w.transfer.id, w.reversal.id)
    ),
    ("GET", "/v1/balance"): lambda w: raw(stripe.Balance.retrieve()),
    ("GET", "/v1/events/{id}"): lambda w: raw(stripe.Event.retrieve(w.event.id)),
    ("GET", "/v1/events"): lambda w: raw(stripe.Event.list(limit=100)),
}


def test_every_served_operation_is_covered() -> None:
    served = set(stripe_sandbox.served_operations())
    assert served - set(COVERAGE) == set(), "served operations without a schema test"
    assert set(COVERAGE) - served == set(), "schema tests for operations that are not served"


def test_every_served_operation_exists_in_the_spec() -> None:
    for method, path in stripe_sandbox.served_operations():
        assert openapi.operation(method, path) is not None, (method, path)


@pytest.mark.parametrize("operation", sorted(COVERAGE), ids=lambda op: f"{op[0]} {op[1]}")
def test_response_matches_spec(world: World, operation: tuple[str, str]) -> None:
    body = COVERAGE[operation](world)
    assert isinstance(body, dict)
    errors = openapi.validation_errors(operation[0], operation[1], body)
    assert errors == [], json.dumps(body, indent=1)[:3000]


def test_connected_account_balance_matches_spec(world: World) -> None:
    body = raw(stripe.Balance.retrieve(stripe_account=world.account.id))
    assert openapi.validation_errors("GET", "/v1/balance", body) == []
    assert "connect_reserved" not in body


def test_every_event_and_its_object_match_the_spec(world: World) -> None:
    # What the world made, whichever of this module's tests ran before (their
    # events come on top): the kinds below are the coverage, not a count.
    events = [raw_event for raw_event in _all_events()]
    kinds = set()
    for event in events:
        assert openapi.validation_errors("GET", "/v1/events/{id}", event) == [], event["type"]
        obj = event["data"]["object"]
        kinds.add(obj["object"])
        assert openapi.object_errors(obj) == [], (event["type"], openapi.object_errors(obj))
    assert {
        "customer",
        "checkout.session",
        "payment_intent",
        "charge",
        "refund",
        "subscription",
        "invoice",
        "account",
        "transfer",
        "dispute",
        "payment_method",
        "price",
        "product",
    } <= kinds


def _all_events() -> list[dict[str, Any]]:
    page = raw(stripe.Event.list(limit=100))
    events = list(page["data"])
    while page["has_more"]:
        page = raw(stripe.Event.list(limit=100, starting_after=events[-1]["id"]))
        events.extend(page["data"])
    return events


# Fields present in the spec's example objects (fixtures3.json) but deliberately absent here.
ABSENT_ON_PURPOSE: dict[str, set[str]] = {
    # Only present for charges created with a destination / transfer_data (not modelled).
    "charge": {"transfer"},
    # Express accounts carry neither: they are Custom-account only.
    "account": {"company", "individual"},
}


def test_objects_have_every_field_of_stripes_example_objects(world: World) -> None:
    examples = openapi.load_fixtures()
    ours = {
        "customer": raw(stripe.Customer.retrieve(world.customer.id)),
        "product": raw(stripe.Product.retrieve(world.catalog["product"].id)),
        "price": raw(stripe.Price.retrieve(world.catalog["monthly"].id)),
        "checkout.session": raw(stripe.checkout.Session.retrieve(world.session.id)),
        "payment_intent": raw(stripe.PaymentIntent.retrieve(world.session.payment_intent.id)),
        "charge": raw(stripe.Charge.retrieve(world.charge.id)),
        "refund": raw(stripe.Refund.retrieve(world.refund.id)),
        "subscription": raw(stripe.Subscription.retrieve(world.subscription.id)),
        "invoice": raw(stripe.Invoice.retrieve(world.subscription.latest_invoice)),
        "account": raw(stripe.Account.retrieve(world.account.id)),
        "transfer": raw(stripe.Transfer.retrieve(world.transfer.id)),
        "transfer_reversal": raw(
            stripe.Transfer.retrieve_reversal(world.transfer.id, world.reversal.id)
        ),
        "dispute": raw(stripe.Dispute.retrieve(world.dispute["id"])),
        "balance_transaction": raw(
            stripe.BalanceTransaction.retrieve(world.charge.balance_transaction)
        ),
        "payment_method": raw(stripe.PaymentMethod.retrieve(world.charge.payment_method)),
        "event": raw(stripe.Event.retrieve(world.event.id)),
        "balance": raw(stripe.Balance.retrieve()),
    }
    for name, obj in ours.items():
        expected = set(examples[name]) - ABSENT_ON_PURPOSE.get(name, set())
        missing = expected - set(obj)
        assert not missing, f"{name} lacks {sorted(missing)}"


@pytest.mark.parametrize(
    "make_error",
    [
        pytest.param(lambda w: stripe.Customer.retrieve("cus_missing"), id="404"),
        pytest.param(lambda w: stripe.Customer.create(metdata={"x": "y"}), id="400-unknown-param"),
        pytest.param(lambda w: stripe.Customer.create(api_key="sk_live_nope"), id="401"),
        pytest.param(lambda w: stripe.Invoice.pay(_failing_invoice(w)), id="402"),
        pytest.param(
            lambda w: stripe.Balance.retrieve(stripe_account="acct_missing"), id="403-account"
        ),
    ],
)
def test_error_bodies_match_spec(world: World, make_error: Call) -> None:
    with pytest.raises(stripe.StripeError) as info:
        make_error(world)
    body = info.value.json_body
    assert openapi.error_body_errors(body) == [], body


def _failing_invoice(w: World) -> str:
    """An open invoice whose card keeps failing (a failed renewal)."""
    sub = paid_subscription(w.catalog["monthly"].id)
    hook(w.server.url, f"customers/{sub.customer}/renewal_failure", {"fail": True})
    advance(w.server, days=32)
    return stripe.Invoice.list(subscription=sub.id, status="open").data[0].id


def _open_invoice(w: World) -> str:
    """An open invoice of its own (a failed renewal, then a working card), for
    POST /v1/invoices/{id}/pay: the world's invoices may have been paid by
    the clock other tests advanced."""
    invoice = _failing_invoice(w)
    customer = stripe.Invoice.retrieve(invoice).customer
    hook(w.server.url, f"customers/{customer}/renewal_failure", {"fail": False})
    return invoice
