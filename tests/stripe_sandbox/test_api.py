"""Core API behaviour through the real SDK: CRUD, errors, auth, idempotency, expansion, lists."""

from __future__ import annotations

import base64
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from stripe_sandbox.testing import http

from .conftest import API_KEY
from .helpers import catalog, event_types, paid_payment


def test_customer_create_retrieve_update_list(sdk) -> None:
    customer = stripe.Customer.create(
        email="fan@example.com", name="Fan", metadata={"user_id": "7", "tier": "free"}
    )
    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert customer.livemode is False
    assert stripe.Customer.retrieve(customer.id).email == "fan@example.com"

    # metadata[k]= (empty) unsets a key, other keys are merged.
    updated = stripe.Customer.modify(customer.id, name="Fan Two", metadata={"tier": "", "new": "1"})
    assert updated.name == "Fan Two"
    assert updated.metadata.to_dict() == {"user_id": "7", "new": "1"}

    stripe.Customer.create(email="other@example.com")
    listed = stripe.Customer.list(email="fan@example.com")
    assert [c.id for c in listed.data] == [customer.id]
    assert listed.url == "/v1/customers"

    event = stripe.Event.list(type="customer.updated").data[0]
    assert event.data.object.id == customer.id
    assert event.data.previous_attributes.to_dict() == {
        "name": "Fan",
        "metadata": {"tier": "free", "new": None},
    }


def test_products_prices_lookup_keys_and_recurring_filter(sdk) -> None:
    items = catalog()
    assert items["product"].id.startswith("prod_")
    assert items["one_time"].id.startswith("price_")
    assert items["one_time"].type == "one_time"
    assert items["monthly"].recurring.interval == "month"
    assert items["monthly"].recurring.interval_count == 1

    by_key = stripe.Price.list(lookup_keys=["premium_monthly", "remix_license"])
    assert {p.id for p in by_key.data} == {items["one_time"].id, items["monthly"].id}
    monthly = stripe.Price.list(recurring={"interval": "month"})
    assert [p.id for p in monthly.data] == [items["monthly"].id]
    assert stripe.Price.list(type="one_time").data[0].id == items["one_time"].id
    assert stripe.Product.retrieve(items["product"].id).name == "Remix license"
    assert [p.id for p in stripe.Product.list().data] == [items["product"].id]

    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.Price.create(
            product=items["product"].id, unit_amount=1, currency="usd", lookup_key="remix_license"
        )
    assert info.value.param == "lookup_key"
    moved = stripe.Price.create(
        product=items["product"].id,
        unit_amount=1600,
        currency="usd",
        lookup_key="remix_license",
        transfer_lookup_key=True,
    )
    assert stripe.Price.list(lookup_keys=["remix_license"]).data[0].id == moved.id
    assert stripe.Price.retrieve(items["one_time"].id).lookup_key is None


def test_errors_have_stripe_shape_and_sdk_classes(sdk) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.Customer.retrieve("cus_nope")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"
    assert missing.value.json_body["error"] == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such customer: 'cus_nope'",
        "param": "id",
    }

    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.Customer.create(emial="typo@example.com")
    assert unknown.value.http_status == 400
    assert unknown.value.param == "emial"
    assert "Received unknown parameter: emial" in unknown.value.user_message

    with pytest.raises(stripe.InvalidRequestError) as required:
        stripe.Price.create(product="prod_x", unit_amount=5)
    assert required.value.param == "currency"
    assert required.value.code == "parameter_missing"

    with pytest.raises(stripe.InvalidRequestError) as bad_int:
        stripe.Price.create(currency="usd", product_data={"name": "x"}, unit_amount="lots")
    assert bad_int.value.param == "unit_amount"


def test_authentication(sdk, sandbox) -> None:
    with pytest.raises(stripe.AuthenticationError) as wrong:
        stripe.Customer.list(api_key="sk_live_definitely_not")
    assert wrong.value.http_status == 401
    assert wrong.value.json_body["error"]["type"] == "invalid_request_error"

    no_key = http("GET", f"{sandbox.url}/v1/customers")
    assert no_key.status == 401
    assert "did not provide an API key" in no_key.json()["error"]["message"]

    # curl -u sk_test_...: style basic auth works too.
    token = base64.b64encode(f"{API_KEY}:".encode()).decode()
    basic = http("GET", f"{sandbox.url}/v1/customers", headers={"Authorization": f"Basic {token}"})
    assert basic.status == 200
    assert basic.json()["object"] == "list"


def test_unknown_stripe_account_is_permission_error(sdk) -> None:
    with pytest.raises(stripe.PermissionError) as info:
        stripe.Customer.list(stripe_account="acct_missing")
    assert info.value.http_status == 403
    assert info.value.json_body["error"]["code"] == "account_invalid"


def test_unrecognized_url(sandbox) -> None:
    result = http(
        "GET", f"{sandbox.url}/v1/nothing_here", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert result.status == 404
    assert "Unrecognized request URL (GET: /v1/nothing_here)" in result.json()["error"]["message"]


def test_idempotent_replay_and_mismatch(sdk) -> None:
    key = f"idem-{uuid.uuid4()}"
    first = stripe.Customer.create(email="once@example.com", idempotency_key=key)
    second = stripe.Customer.create(email="once@example.com", idempotency_key=key)
    assert second.id == first.id
    assert first.last_response.headers.get("Idempotent-Replayed") is None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert second.last_response.body == first.last_response.body  # byte-for-byte replay
    assert len(stripe.Customer.list().data) == 1
    assert event_types() == ["customer.created"]  # no second event either

    with pytest.raises(stripe.IdempotencyError) as info:
        stripe.Customer.create(email="different@example.com", idempotency_key=key)
    assert info.value.http_status == 400
    assert info.value.json_body["error"]["type"] == "idempotency_error"

    # Same key against another endpoint is also a mismatch.
    with pytest.raises(stripe.IdempotencyError):
        stripe.Product.create(name="x", idempotency_key=key)


def test_idempotency_is_scoped_per_api_key_and_account(sdk) -> None:
    key = f"idem-{uuid.uuid4()}"
    a = stripe.Customer.create(email="a@example.com", idempotency_key=key)
    b = stripe.Customer.create(email="a@example.com", idempotency_key=key, api_key="sk_test_other")
    assert a.id != b.id
    account = stripe.Account.create(type="express", email="acct@example.com")
    c = stripe.Customer.create(
        email="a@example.com", idempotency_key=key, stripe_account=account.id
    )
    assert c.id not in (a.id, b.id)


def test_failed_validation_does_not_burn_the_key(sdk) -> None:
    key = f"idem-{uuid.uuid4()}"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Customer.create(emial="x@example.com", idempotency_key=key)
    ok = stripe.Customer.create(email="x@example.com", idempotency_key=key)
    assert ok.id.startswith("cus_")


def test_sdk_without_explicit_key_auto_idempotency(sdk) -> None:
    # The SDK sends a fresh Idempotency-Key on every POST; distinct calls stay distinct.
    one = stripe.Customer.create(email="same@example.com")
    two = stripe.Customer.create(email="same@example.com")
    assert one.id != two.id
    assert one.last_response.idempotency_key != two.last_response.idempotency_key


def test_stripe_client_with_base_addresses(sandbox) -> None:
    client = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": sandbox.url, "connect": sandbox.url},
        max_network_retries=0,
    )
    customer = client.v1.customers.create(params={"email": "client@example.com"})
    assert client.v1.customers.retrieve(customer.id).email == "client@example.com"
    account = client.v1.accounts.create(params={"type": "express"})
    assert account.id.startswith("acct_")


def test_expand_nested_and_on_lists(sdk) -> None:
    items = catalog()
    session, charge = paid_payment(items["one_time"].id)
    expanded = stripe.checkout.Session.retrieve(
        session.id, expand=["payment_intent.latest_charge.balance_transaction", "line_items"]
    )
    assert expanded.payment_intent.latest_charge.balance_transaction.amount == 1500
    assert expanded.line_items.data[0].price.id == items["one_time"].id
    assert expanded.line_items.data[0].quantity == 1

    listed = stripe.Charge.list(expand=["data.payment_intent"])
    assert listed.data[0].payment_intent.id == session.payment_intent.id

    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.Charge.retrieve(charge.id, expand=["amount"])
    assert info.value.param == "expand"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Charge.retrieve(charge.id, expand=["no_such_field"])


def test_curl_style_form_encoding_and_json_bodies(sandbox) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    form = (
        "email=raw%40example.com&metadata[a]=1&metadata[0]=zero"
        "&expand[]=invoice_settings.default_payment_method"
    )
    created = http(
        "POST",
        f"{sandbox.url}/v1/customers",
        data=form.encode(),
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert created.status == 200, created.text
    assert created.json()["metadata"] == {"a": "1", "0": "zero"}
    as_json = http(
        "POST",
        f"{sandbox.url}/v1/customers",
        data=json.dumps({"email": "j@example.com", "metadata": {"n": 1}}).encode(),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert as_json.json()["metadata"] == {"n": "1"}


def test_list_pagination(sdk) -> None:
    created = [stripe.Customer.create(email=f"c{i}@example.com").id for i in range(25)]
    newest_first = list(reversed(created))
    page1 = stripe.Customer.list(limit=10)
    assert [c.id for c in page1.data] == newest_first[:10]
    assert page1.has_more is True
    page2 = stripe.Customer.list(limit=10, starting_after=page1.data[-1].id)
    assert [c.id for c in page2.data] == newest_first[10:20]
    page3 = stripe.Customer.list(limit=10, starting_after=page2.data[-1].id)
    assert [c.id for c in page3.data] == newest_first[20:]
    assert page3.has_more is False
    back = stripe.Customer.list(limit=5, ending_before=page2.data[0].id)
    assert [c.id for c in back.data] == newest_first[5:10]
    assert back.has_more is True
    assert len(list(stripe.Customer.list(limit=7).auto_paging_iter())) == 25
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Customer.list(limit=101)
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Customer.list(starting_after="cus_unknown")


def test_events_list_pagination_and_filters(sdk) -> None:
    for i in range(12):
        stripe.Customer.create(email=f"e{i}@example.com")
    stripe.Product.create(name="p")
    page = stripe.Event.list(limit=5)
    assert page.has_more is True
    assert page.data[0].type == "product.created"
    assert all(e.object == "event" for e in page.data)
    ids = [e.id for e in stripe.Event.list(limit=5).auto_paging_iter()]
    assert len(ids) == len(set(ids)) == 13
    nxt = stripe.Event.list(limit=5, starting_after=page.data[-1].id)
    assert nxt.data[0].id == ids[5]
    assert len(stripe.Event.list(type="customer.created", limit=100).data) == 12
    assert len(stripe.Event.list(type="customer.*", limit=100).data) == 12
    assert len(stripe.Event.list(types=["product.created"]).data) == 1
    # From the oldest event's second on: all 13, however many seconds making them took
    # (a loaded machine took more than one, and "gte the newest's" then found 4).
    oldest, newest = stripe.Event.retrieve(ids[-1]).created, page.data[0].created
    assert len(stripe.Event.list(created={"gte": oldest}, limit=100).data) == 13
    assert stripe.Event.list(created={"gt": newest}).data == []
    event = stripe.Event.retrieve(ids[0])
    assert event.api_version == "2020-08-27"
    assert event.livemode is False
    assert event.request.id.startswith("req_")
    assert event.request.idempotency_key
    assert event.pending_webhooks in (0, 1)


def test_concurrent_requests_and_idempotency_race(sdk) -> None:
    key = f"idem-{uuid.uuid4()}"

    def create(i: int) -> str:
        return stripe.Customer.create(email="race@example.com", idempotency_key=key).id

    def create_distinct(i: int) -> str:
        return stripe.Customer.create(email=f"p{i}@example.com").id

    with ThreadPoolExecutor(max_workers=8) as pool:
        same = set(pool.map(create, range(16)))
        distinct = set(pool.map(create_distinct, range(32)))
    assert len(same) == 1
    assert len(distinct) == 32
    assert len(list(stripe.Customer.list(limit=100).auto_paging_iter())) == 33
