"""verify_ledger and reconcile_stripe."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from royalties import enqueue
from royalties.models import Reversal, SettlementLine
from royalties.services import refunds, reversals, sweeps

from .conftest import onboard, settle


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda *a: None)


def test_verify_ledger_passes_then_names_the_first_discrepancy(cat, fake_stripe, capsys):
    onboard(cat.ana)
    settle(cat, "o1", gross=1000)
    sweeps.payouts_sweep(run_inline=True)
    call_command("verify_ledger")
    assert "ledger OK" in capsys.readouterr().out
    # Tamper with an operational counter (the ledger itself refuses edits).
    line = SettlementLine.objects.filter(party=cat.bo).first()
    SettlementLine.objects.filter(pk=line.pk).update(transferred_cents=5)
    with pytest.raises(CommandError, match=f"line {line.pk}"):
        call_command("verify_ledger")


class _Page(list):
    def auto_paging_iter(self):
        return iter(self)


def _client_for(fake):
    transfers = SimpleNamespace(
        list=lambda params=None: _Page(
            SimpleNamespace(
                id=t.id,
                amount=t.amount,
                currency="usd",
                destination=t.destination,
                amount_reversed=t.amount_reversed,
                metadata={"clearmix_transfer_id": "x"},
                reversals=SimpleNamespace(data=list(t.reversals), has_more=False),
            )
            for t in fake.transfers.values()
        ),
    )
    return SimpleNamespace(v1=SimpleNamespace(transfers=transfers))


def test_reconcile_stripe_matches_and_catches_strays(cat, fake_stripe, monkeypatch):
    onboard(cat.ana)
    settle(cat, "o1", gross=1000)
    sweeps.payouts_sweep(run_inline=True)
    refunds.refund_post(refund_id="re_1", amount_cents=400, order_ref="o1")
    for r in Reversal.objects.all():
        reversals.reversal_execute(reversal_id=r.pk)
    monkeypatch.setattr("royalties.stripe_client.stripe_client", lambda: _client_for(fake_stripe))
    call_command("reconcile_stripe")
    # A transfer Stripe has that the ledger does not (e.g. a lost response).
    fake_stripe.v1.transfers.create(
        params={
            "amount": 7,
            "destination": "acct_x",
            "transfer_group": "g",
            "source_transaction": "ch",
        },
        options={"idempotency_key": "stray"},
    )
    with pytest.raises(CommandError, match="not in the ledger"):
        call_command("reconcile_stripe")
