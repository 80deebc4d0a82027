"""Refunds (partial and full) and disputes opened/closed through test hooks."""

from __future__ import annotations

import pytest
import stripe

from stripe_sandbox.testing import hook

from .helpers import catalog, event_types, paid_payment


def test_partial_then_full_refund(sdk) -> None:
    session, charge = paid_payment(catalog()["one_time"].id)
    first = stripe.Refund.create(
        payment_intent=session.payment_intent.id, amount=500, reason="requested_by_customer"
    )
    assert first.id.startswith("re_")
    assert (first.amount, first.charge, first.status) == (500, charge.id, "succeeded")
    assert first.payment_intent == session.payment_intent.id
    charge = stripe.Charge.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (500, False)
    assert [r.id for r in charge.refunds.data] == [first.id]
    assert event_types()[-2:] == ["charge.refunded", "refund.created"]
    refunded_event = stripe.Event.list(type="charge.refunded").data[0]
    assert refunded_event.data.object.amount_refunded == 500
    assert refunded_event.data.previous_attributes.amount_refunded == 0
    assert stripe.Balance.retrieve().available[0].amount == 1000

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe.Refund.create(charge=charge.id, amount=1001)
    assert too_much.value.param == "amount"

    rest = stripe.Refund.create(charge=charge.id)
    assert rest.amount == 1000
    charge = stripe.Charge.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (1500, True)
    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe.Refund.create(charge=charge.id)
    assert again.value.code == "charge_already_refunded"
    assert {r.id for r in stripe.Refund.list(charge=charge.id).data} == {first.id, rest.id}
    assert stripe.Refund.retrieve(first.id).reason == "requested_by_customer"
    txn = stripe.BalanceTransaction.retrieve(first.balance_transaction)
    assert (txn.type, txn.amount) == ("refund", -500)


def test_refund_validation(sdk) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Refund.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.Refund.create(charge="ch_missing")
    assert info.value.param == "charge"


def test_dispute_lost_and_won(sdk, sandbox) -> None:
    price = catalog()["one_time"]
    _s1, lost_charge = paid_payment(price.id)
    _s2, won_charge = paid_payment(price.id)
    assert stripe.Balance.retrieve().available[0].amount == 3000

    dispute = hook(sandbox.url, f"charges/{lost_charge.id}/dispute", {"reason": "fraudulent"})
    assert dispute["id"].startswith("dp_")
    assert (dispute["status"], dispute["amount"], dispute["charge"]) == (
        "needs_response",
        1500,
        lost_charge.id,
    )
    assert event_types()[-2:] == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    assert stripe.Charge.retrieve(lost_charge.id).disputed is True
    assert stripe.Balance.retrieve().available[0].amount == 1500
    with pytest.raises(stripe.InvalidRequestError) as no_refund:
        stripe.Refund.create(charge=lost_charge.id)
    assert no_refund.value.code == "charge_disputed"

    closed = hook(sandbox.url, f"disputes/{dispute['id']}/close", {"outcome": "lost"})
    assert closed["status"] == "lost"
    assert event_types()[-1] == "charge.dispute.closed"
    assert stripe.Balance.retrieve().available[0].amount == 1500

    other = hook(
        sandbox.url,
        f"charges/{won_charge.id}/dispute",
        {"reason": "product_not_received", "amount": 1000},
    )
    won = hook(sandbox.url, f"disputes/{other['id']}/close", {"outcome": "won"})
    assert won["status"] == "won"
    assert event_types()[-2:] == ["charge.dispute.closed", "charge.dispute.funds_reinstated"]
    assert stripe.Balance.retrieve().available[0].amount == 1500
    assert stripe.Dispute.retrieve(other["id"]).status == "won"
    assert len(stripe.Dispute.list().data) == 2
    assert [d.id for d in stripe.Dispute.list(charge=won_charge.id).data] == [other["id"]]
    with pytest.raises(RuntimeError):
        hook(sandbox.url, f"disputes/{other['id']}/close", {"outcome": "lost"})
