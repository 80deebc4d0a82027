"""A state machine over purchases, refunds, disputes, onboarding, failed
transfers and sweeps; the ledger's invariants are checked after every step
against a simple model and against the (fake) Stripe side."""

from __future__ import annotations

import os
from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from royalties import enqueue, ledger, stripe_client, webhooks
from royalties.audit import ledger_verify
from royalties.models import Payee, Refund
from royalties.services import refunds, sweeps

from .conftest import FakeStripe, settle


@pytest.mark.django_db
def test_ledger_state_machine(cat, monkeypatch):
    holder: dict = {}
    monkeypatch.setattr(stripe_client, "stripe_client", lambda: holder["fake"])
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda *a: None)
    monkeypatch.setattr(webhooks, "stripe_client", lambda: (_ for _ in ()).throw(RuntimeError()))
    parties = [cat.ana, cat.bo, cat.cy]

    class LedgerMachine(RuleBasedStateMachine):
        orders = Bundle("orders")
        disputes = Bundle("disputes")

        def __init__(self):
            super().__init__()
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            holder["fake"] = self.fake = FakeStripe()
            self.n = 0
            self.gross: dict[str, int] = {}
            self.taken: dict[str, int] = defaultdict(int)  # refunded or disputed, standing
            self.onboarded: set[int] = set()
            self.event_time = 0

        def teardown(self):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

        def remaining(self, ref):
            return self.gross[ref] - self.taken[ref]

        @rule(target=orders, gross=st.integers(1, 5000))
        def purchase(self, gross):
            self.n += 1
            ref = f"o{self.n}"
            settle(cat, ref, gross=gross)
            self.gross[ref] = gross
            return ref

        @rule(ref=orders, data=st.data())
        def partial_refund(self, ref, data):
            if self.remaining(ref) <= 0:
                return
            amount = data.draw(st.integers(1, self.remaining(ref)))
            self.n += 1
            refunds.refund_post(refund_id=f"re_{self.n}", amount_cents=amount, order_ref=ref)
            self.taken[ref] += amount

        @rule(ref=orders)
        def full_refund(self, ref):
            if self.remaining(ref) <= 0:
                return
            self.n += 1
            amount = self.remaining(ref)
            refunds.refund_post(refund_id=f"re_{self.n}", amount_cents=amount, order_ref=ref)
            self.taken[ref] += amount

        @rule(target=disputes, ref=orders)
        def dispute(self, ref):
            self.n += 1
            dp = f"dp_{self.n}"
            amount = self.remaining(ref)
            webhooks.handle_dispute_created(
                {
                    "type": "charge.dispute.created",
                    "data": {
                        "object": {
                            "id": dp,
                            "charge": f"ch_{ref}",
                            "amount": max(amount, 1),
                            "status": "needs_response",
                        }
                    },
                }
            )
            self.taken[ref] += amount
            return (dp, ref, amount)

        @rule(d=consumes(disputes), won=st.booleans())
        def dispute_closed(self, d, won):
            dp, ref, amount = d
            webhooks.handle_dispute_closed(
                {
                    "type": "charge.dispute.closed",
                    "data": {
                        "object": {
                            "id": dp,
                            "charge": f"ch_{ref}",
                            "amount": amount,
                            "status": "won" if won else "lost",
                        }
                    },
                }
            )
            if won and Refund.objects.filter(external_id=dp).exists():
                self.taken[ref] -= amount

        @rule(i=st.integers(0, 2))
        def onboarding(self, i):
            party = parties[i]
            Payee.objects.get_or_create(party=party, defaults={"stripe_account_id": f"acct_{i}"})
            self.event_time += 1
            webhooks.handle_account_updated(
                {
                    "type": "account.updated",
                    "created": self.event_time,
                    "data": {
                        "object": {
                            "id": f"acct_{i}",
                            "charges_enabled": True,
                            "payouts_enabled": True,
                            "details_submitted": True,
                            "capabilities": {"transfers": "active"},
                        }
                    },
                }
            )
            self.onboarded.add(party.pk)

        @rule(fail=st.booleans())
        def transfers_fail(self, fail):
            self.fake.fail_transfers = fail

        @rule(i=st.integers(0, 2), broke=st.booleans())
        def connected_balance(self, i, broke):
            (
                self.fake.insufficient_balance.add
                if broke
                else self.fake.insufficient_balance.discard
            )(f"acct_{i}")

        @rule()
        def sweep(self):
            sweeps.payouts_sweep(run_inline=True, force=True)
            if not self.fake.fail_transfers:
                for pk in self.onboarded:
                    assert -ledger.balance("payable", pk, "usd") == 0

        @invariant()
        def ledger_is_consistent(self):
            assert ledger_verify() == []

        @invariant()
        def cash_matches_model(self):
            want = sum(self.gross.values()) - sum(self.taken.values())
            assert ledger.balance("platform_cash", None, "usd") == want

        @invariant()
        def every_cent_is_somewhere(self):
            # revenue + owed + paid out - receivable == what the platform kept
            total = -ledger.balance("platform_revenue", None, "usd")
            for p in parties:
                total += -ledger.balance("payable", p.pk, "usd")
                total += -ledger.balance("paid_out", p.pk, "usd")
                total -= ledger.balance("receivable", p.pk, "usd")
            assert total == sum(self.gross.values()) - sum(self.taken.values())

        @invariant()
        def stripe_agrees_with_paid_out(self):
            net = defaultdict(int)
            for tr in self.fake.transfers.values():
                net[tr.destination] += tr.amount - tr.amount_reversed
            for i, p in enumerate(parties):
                assert -ledger.balance("paid_out", p.pk, "usd") == net[f"acct_{i}"]

        @invariant()
        def receivables_never_negative(self):
            for p in parties:
                assert ledger.balance("receivable", p.pk, "usd") >= 0

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=int(os.environ.get("ROYALTIES_SM_EXAMPLES", "20")),
            stateful_step_count=18,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
