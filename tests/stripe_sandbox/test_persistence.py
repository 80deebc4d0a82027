"""State files: a restart keeps customers, accounts, balances and the clock."""

from __future__ import annotations

import json
from pathlib import Path

import stripe

import stripe_sandbox
from stripe_sandbox.testing import hook

from .conftest import point_sdk
from .helpers import catalog, express_account, onboard, paid_payment


def test_restart_keeps_state(tmp_path: Path, monkeypatch) -> None:
    state = tmp_path / "sandbox.json"
    server = stripe_sandbox.start(port=0, state_file=str(state))
    point_sdk(monkeypatch, server.url)
    customer = stripe.Customer.create(email="persist@example.com")
    account = onboard(express_account().id)
    paid_payment(catalog()["one_time"].id)
    hook(server.url, "clock/advance", {"days": 3})
    now = hook(server.url, "clock")["now"]
    server.stop()
    assert json.loads(state.read_text())["version"] == 1

    again = stripe_sandbox.start(port=0, state_file=str(state))
    try:
        point_sdk(monkeypatch, again.url)
        assert stripe.Customer.retrieve(customer.id).email == "persist@example.com"
        assert stripe.Account.retrieve(account.id).charges_enabled is True
        assert stripe.Balance.retrieve().available[0].amount == 1500
        assert hook(again.url, "clock")["now"] >= now
        assert len(stripe.Event.list(limit=100).data) > 5
        # Transfers still work against persisted balances and capabilities.
        stripe.Transfer.create(amount=100, currency="usd", destination=account.id)
    finally:
        again.stop()


def test_unreadable_state_file_is_ignored(tmp_path: Path, monkeypatch) -> None:
    state = tmp_path / "broken.json"
    state.write_text("{not json")
    server = stripe_sandbox.start(port=0, state_file=str(state))
    try:
        point_sdk(monkeypatch, server.url)
        assert stripe.Customer.list().data == []
        stripe.Customer.create()
    finally:
        server.stop()
    assert json.loads(state.read_text())["collections"]["customers"]
