"""Connect: Express accounts, hosted onboarding, transfers, reversals and balances."""

from __future__ import annotations

import pytest
import stripe

from stripe_sandbox.testing import hook, http, submit_onboarding

from .helpers import advance, catalog, event_types, express_account, onboard, paid_payment


def test_new_express_account_is_restricted(sdk) -> None:
    account = express_account()
    assert account.id.startswith("acct_")
    assert account.type == "express"
    assert account.email == "artist@example.com"
    assert account.metadata.to_dict() == {"artist_id": "9"}
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        False,
        False,
        False,
    )
    assert account.capabilities.transfers == "inactive"
    assert "external_account" in account.requirements.currently_due
    assert stripe.Account.list().data[0].id == account.id
    assert stripe.Account.retrieve(account.id).id == account.id
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.Transfer.create(amount=100, currency="usd", destination=account.id)
    assert info.value.code == "insufficient_capabilities_for_transfer"
    assert info.value.param == "destination"


def test_onboarding_complete(sdk) -> None:
    account = express_account()
    link = stripe.AccountLink.create(
        account=account.id,
        refresh_url="https://clearmix.test/refresh",
        return_url="https://clearmix.test/return",
        type="account_onboarding",
    )
    assert link.object == "account_link"
    assert link.expires_at > link.created
    page = http("GET", link.url)
    assert page.status == 200
    assert "Complete onboarding</button>" in page.text
    assert "Leave requirements due</button>" in page.text

    done = submit_onboarding(link.url, "complete")
    assert done.status == 303
    assert done.location == "https://clearmix.test/return"
    account = stripe.Account.retrieve(account.id)
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        True,
        True,
        True,
    )
    assert account.capabilities.transfers == "active"
    assert account.requirements.currently_due == []

    event = stripe.Event.list(type="account.updated").data[0]
    assert event.account == account.id
    assert event.data.object.id == account.id
    assert event.data.previous_attributes.charges_enabled is False
    assert event.data.previous_attributes.capabilities.transfers == "inactive"

    # Account links are single use: a revisit goes to refresh_url.
    again = http("GET", link.url)
    assert again.status == 303
    assert again.location == "https://clearmix.test/refresh"


def test_onboarding_left_with_requirements_due(sdk) -> None:
    account = onboard(express_account().id, action="leave")
    assert account.charges_enabled is False
    assert account.capabilities.transfers == "inactive"
    assert account.requirements.currently_due == [
        "external_account",
        "tos_acceptance.date",
        "tos_acceptance.ip",
    ]
    event = stripe.Event.list(type="account.updated").data[0]
    assert event.account == account.id
    assert "requirements" in event.data.previous_attributes


def test_expired_link_redirects_to_refresh(sdk, sandbox) -> None:
    account = express_account()
    link = stripe.AccountLink.create(
        account=account.id,
        refresh_url="https://x.test/refresh",
        return_url="https://x.test/r",
        type="account_onboarding",
    )
    advance(sandbox, minutes=6)
    result = http("GET", link.url)
    assert (result.status, result.location) == (303, "https://x.test/refresh")


def test_account_link_validation(sdk) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.AccountLink.create(
            account="acct_nope",
            refresh_url="https://x",
            return_url="https://x",
            type="account_onboarding",
        )
    assert info.value.param == "account"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.AccountLink.create(
            account="acct_nope", refresh_url="https://x", return_url="https://x"
        )
    assert missing.value.param == "type"


def test_account_update_emits_account_updated(sdk) -> None:
    account = express_account()
    stripe.Account.modify(
        account.id, metadata={"tier": "gold"}, business_profile={"name": "DJ Test"}
    )
    event = stripe.Event.list(type="account.updated").data[0]
    assert event.account == account.id
    assert event.data.object.business_profile.name == "DJ Test"


def test_transfer_and_reversal_with_balances(sdk, sandbox) -> None:
    _session, charge = paid_payment(catalog()["one_time"].id)
    account = onboard(express_account().id)
    transfer = stripe.Transfer.create(
        amount=1000,
        currency="usd",
        destination=account.id,
        transfer_group="order_42",
        source_transaction=charge.id,
        metadata={"royalty": "r1"},
    )
    assert transfer.id.startswith("tr_")
    assert transfer.destination == account.id
    assert transfer.source_transaction == charge.id
    assert transfer.reversals.total_count == 0
    assert transfer.balance_transaction.startswith("txn_")
    assert event_types()[-1] == "transfer.created"
    assert stripe.Balance.retrieve().available[0].amount == 500
    assert stripe.Balance.retrieve(stripe_account=account.id).available[0].amount == 1000
    assert [t.id for t in stripe.Transfer.list(destination=account.id).data] == [transfer.id]
    assert [t.id for t in stripe.Transfer.list(transfer_group="order_42").data] == [transfer.id]
    assert stripe.Transfer.list(transfer_group="other").data == []
    assert stripe.Transfer.retrieve(transfer.id).metadata.royalty == "r1"

    # A source_transaction caps what can be transferred from it.
    with pytest.raises(stripe.InvalidRequestError) as capped:
        stripe.Transfer.create(
            amount=600, currency="usd", destination=account.id, source_transaction=charge.id
        )
    assert capped.value.param == "amount"

    reversal = stripe.Transfer.create_reversal(transfer.id, amount=300, metadata={"why": "refund"})
    assert reversal.id.startswith("trr_")
    assert reversal.transfer == transfer.id
    assert stripe.Balance.retrieve(stripe_account=account.id).available[0].amount == 700
    assert stripe.Balance.retrieve().available[0].amount == 800
    after = stripe.Transfer.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (300, False)
    assert [r.id for r in after.reversals.data] == [reversal.id]
    reversed_event = stripe.Event.list(type="transfer.reversed").data[0]
    assert reversed_event.data.previous_attributes.amount_reversed == 0
    assert [r.id for r in stripe.Transfer.list_reversals(transfer.id).data] == [reversal.id]
    assert stripe.Transfer.retrieve_reversal(transfer.id, reversal.id).amount == 300

    rest = stripe.Transfer.create_reversal(transfer.id)
    assert rest.amount == 700
    assert stripe.Transfer.retrieve(transfer.id).reversed is True
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Transfer.create_reversal(transfer.id, amount=1)

    ledger = stripe.BalanceTransaction.list(stripe_account=account.id)
    assert [t.type for t in ledger.data] == ["payment_refund", "payment_refund", "payment"]
    assert [t.type for t in stripe.BalanceTransaction.list().data] == [
        "transfer_refund",
        "transfer_refund",
        "transfer",
        "charge",
    ]


def test_reversal_fails_when_connected_balance_is_too_low(sdk, sandbox) -> None:
    paid_payment(catalog()["one_time"].id)
    account = onboard(express_account().id)
    transfer = stripe.Transfer.create(amount=1000, currency="usd", destination=account.id)
    drained = hook(
        sandbox.url, f"accounts/{account.id}/balance", {"amount": 200, "currency": "usd"}
    )
    assert drained["available"][0]["amount"] == 200
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.Transfer.create_reversal(transfer.id, amount=500)
    assert info.value.code == "balance_insufficient"
    assert info.value.http_status == 400
    assert stripe.Transfer.retrieve(transfer.id).amount_reversed == 0
    ok = stripe.Transfer.create_reversal(transfer.id, amount=200)
    assert ok.amount == 200


def test_transfer_fails_without_platform_funds(sdk) -> None:
    account = onboard(express_account().id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.Transfer.create(amount=1, currency="usd", destination=account.id)
    assert info.value.code == "balance_insufficient"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.Transfer.create(amount=1, currency="usd", destination="acct_missing")
    assert missing.value.param == "destination"


def test_balance_for_unknown_account_is_refused(sdk) -> None:
    with pytest.raises(stripe.PermissionError):
        stripe.Balance.retrieve(stripe_account="acct_missing")
