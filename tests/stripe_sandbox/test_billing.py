"""Subscriptions on the simulated clock: renewals, failures and dunning, cancellation."""

from __future__ import annotations

import itertools

import pytest
import stripe

from stripe_sandbox.testing import hook

from .helpers import RENEWAL_FAILS_CARD, advance, catalog, event_types, paid_subscription

DAY = 86400


def _events_since(result: dict) -> list[str]:
    return [stripe.Event.retrieve(e).type for e in result["events"]]


def test_renewal_success_on_clock_advance(sdk, sandbox) -> None:
    sub = paid_subscription(catalog()["monthly"].id)
    first_end = sub.current_period_end
    assert hook(sandbox.url, "clock/advance", {"days": 10})["events"] == []

    result = advance(sandbox, days=25)
    assert _events_since(result) == [
        "invoice.created",
        "invoice.finalized",
        "customer.subscription.updated",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    renewed = stripe.Subscription.retrieve(sub.id)
    assert renewed.status == "active"
    assert renewed.current_period_start == first_end
    assert renewed.current_period_end > first_end + 27 * DAY
    assert renewed["items"].data[0].current_period_end == renewed.current_period_end

    updated = stripe.Event.list(type="customer.subscription.updated").data[0]
    assert updated.data.previous_attributes.current_period_end == first_end
    assert updated.data.object.current_period_end == renewed.current_period_end

    invoice = stripe.Invoice.retrieve(renewed.latest_invoice)
    assert invoice.billing_reason == "subscription_cycle"
    assert invoice.status == "paid" and invoice.amount_paid == 900
    assert invoice.lines.data[0].period.start == first_end
    assert invoice.number.endswith("-0002")
    paid_event = stripe.Event.list(type="invoice.paid").data[0]
    assert paid_event.data.object.id == invoice.id
    assert paid_event.created >= first_end  # events carry sandbox time
    assert stripe.Balance.retrieve().available[0].amount == 1800


def test_several_periods_in_one_jump(sdk, sandbox) -> None:
    sub = paid_subscription(catalog()["monthly"].id)
    advance(sandbox, days=95)
    invoices = stripe.Invoice.list(subscription=sub.id).data
    assert [i.billing_reason for i in invoices] == ["subscription_cycle"] * 3 + [
        "subscription_create"
    ]
    assert all(i.status == "paid" for i in invoices)
    # Each renewal happened at its own period end.
    creates = sorted(i.created for i in invoices)
    assert all(b - a >= 28 * DAY for a, b in itertools.pairwise(creates))


def test_renewal_failure_past_due_then_canceled(sdk, sandbox) -> None:
    sub = paid_subscription(catalog()["monthly"].id)
    hook(sandbox.url, f"customers/{sub.customer}/renewal_failure", {"fail": True})

    first = advance(sandbox, days=31)
    assert _events_since(first) == [
        "invoice.created",
        "invoice.finalized",
        "customer.subscription.updated",
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    sub = stripe.Subscription.retrieve(sub.id)
    assert sub.status == "past_due"
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    assert invoice.status == "open" and invoice.paid is False
    assert invoice.attempt_count == 1
    assert invoice.next_payment_attempt is not None
    past_due = stripe.Event.list(type="customer.subscription.updated").data[0]
    assert past_due.data.previous_attributes.status == "active"

    second = advance(sandbox, days=3)
    assert _events_since(second) == [
        "charge.failed",
        "payment_intent.payment_failed",
        "invoice.payment_failed",
    ]
    assert stripe.Invoice.retrieve(invoice.id).attempt_count == 2

    final = advance(sandbox, days=5)
    assert _events_since(final) == [
        "charge.failed",
        "payment_intent.payment_failed",
        "invoice.payment_failed",
        "customer.subscription.deleted",
    ]
    sub = stripe.Subscription.retrieve(sub.id)
    assert sub.status == "canceled"
    assert sub.ended_at is not None
    assert stripe.Invoice.retrieve(invoice.id).next_payment_attempt is None
    # Nothing more happens to a canceled subscription.
    assert advance(sandbox, days=60)["events"] == []


def test_card_341_attaches_but_renewals_fail(sdk, sandbox) -> None:
    sub = paid_subscription(catalog()["monthly"].id, card=RENEWAL_FAILS_CARD)
    assert sub.status == "active"
    advance(sandbox, days=31)
    assert stripe.Subscription.retrieve(sub.id).status == "past_due"
    failed = stripe.Charge.list(customer=sub.customer).data[0]
    assert failed.status == "failed"
    assert failed.payment_method_details.card.last4 == "0341"


def test_recovery_after_failure(sdk, sandbox) -> None:
    sub = paid_subscription(catalog()["monthly"].id)
    hook(sandbox.url, f"customers/{sub.customer}/renewal_failure", {"fail": True})
    advance(sandbox, days=31)
    hook(sandbox.url, f"customers/{sub.customer}/renewal_failure", {"fail": False})
    result = advance(sandbox, days=3)
    assert _events_since(result) == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    assert stripe.Subscription.retrieve(sub.id).status == "active"


def test_invoice_pay_endpoint(sdk, sandbox) -> None:
    sub = paid_subscription(catalog()["monthly"].id)
    hook(sandbox.url, f"customers/{sub.customer}/renewal_failure", {"fail": True})
    advance(sandbox, days=31)
    invoice = stripe.Invoice.list(subscription=sub.id, status="open").data[0]
    with pytest.raises(stripe.CardError) as info:
        stripe.Invoice.pay(invoice.id)
    assert info.value.http_status == 402
    assert info.value.code == "card_declined"
    assert info.value.json_body["error"]["decline_code"] == "generic_decline"
    retry_at = stripe.Invoice.retrieve(invoice.id).next_payment_attempt
    assert retry_at == invoice.next_payment_attempt  # manual attempts keep the schedule

    hook(sandbox.url, f"customers/{sub.customer}/renewal_failure", {"fail": False})
    paid = stripe.Invoice.pay(invoice.id)
    assert paid.status == "paid"
    assert stripe.Subscription.retrieve(sub.id).status == "active"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Invoice.pay(invoice.id)


def test_cancel_at_period_end(sdk, sandbox) -> None:
    sub = paid_subscription(catalog()["monthly"].id)
    updated = stripe.Subscription.modify(sub.id, cancel_at_period_end=True)
    assert updated.cancel_at_period_end is True
    assert updated.cancel_at == sub.current_period_end
    assert updated.status == "active"
    event = stripe.Event.list(type="customer.subscription.updated").data[0]
    assert event.data.previous_attributes.cancel_at_period_end is False

    result = advance(sandbox, days=32)
    assert _events_since(result) == ["customer.subscription.deleted"]
    ended = stripe.Subscription.retrieve(sub.id)
    assert ended.status == "canceled"
    assert ended.ended_at == sub.current_period_end
    assert len(stripe.Invoice.list(subscription=sub.id).data) == 1  # no renewal invoice


def test_undo_cancel_at_period_end_renews(sdk, sandbox) -> None:
    sub = paid_subscription(catalog()["monthly"].id)
    stripe.Subscription.modify(sub.id, cancel_at_period_end=True)
    back = stripe.Subscription.modify(sub.id, cancel_at_period_end=False)
    assert back.cancel_at is None and back.canceled_at is None
    advance(sandbox, days=32)
    assert stripe.Subscription.retrieve(sub.id).status == "active"


def test_cancel_now_and_list_filters(sdk) -> None:
    price = catalog()["monthly"]
    keep = paid_subscription(price.id)
    gone = paid_subscription(price.id)
    canceled = stripe.Subscription.cancel(gone.id)
    assert canceled.status == "canceled"
    assert event_types()[-1] == "customer.subscription.deleted"
    assert [s.id for s in stripe.Subscription.list().data] == [keep.id]  # default hides canceled
    assert {s.id for s in stripe.Subscription.list(status="all").data} == {keep.id, gone.id}
    assert [s.id for s in stripe.Subscription.list(status="canceled").data] == [gone.id]
    assert [s.id for s in stripe.Subscription.list(customer=keep.customer).data] == [keep.id]
    assert len(stripe.Subscription.list(price=price.id).data) == 1
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.cancel(gone.id)
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.modify(gone.id, cancel_at_period_end=True)


def test_unsupported_update_is_refused(sdk) -> None:
    sub = paid_subscription(catalog()["monthly"].id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.Subscription.modify(sub.id, items=[{"price": "price_x"}])
    assert info.value.param == "items"


def test_clock_only_moves_forward(sdk, sandbox) -> None:
    now = hook(sandbox.url, "clock")["now"]
    with pytest.raises(RuntimeError):
        hook(sandbox.url, "clock/advance", {"to": now - 100})
    moved = hook(sandbox.url, "clock/advance", {"to": now + DAY})
    assert moved["now"] >= now + DAY
    assert stripe.Customer.create().created >= now + DAY
