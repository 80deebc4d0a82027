"""Royalties fixtures: a small catalog with splits, a fake Stripe, the sandbox."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
import stripe
from django.utils import timezone

import stripe_sandbox
from catalog.models import Party, Recording, SplitShare, SplitVersion, Work
from royalties.models import Payee
from royalties.services.settlements import settlement_post
from tests.fixtures.accounts import UserFactory

_seq = itertools.count(1)


def make_party(name: str, kind: str = "artist", user=None) -> Party:
    return Party.objects.create(
        kind=kind,
        name=name,
        user=user,
        claim_verified=user is not None,
        claim_verified_at=timezone.now() if user is not None else None,
    )


def make_split(*, recording=None, work=None, shares: list[tuple[Party, int]]) -> SplitVersion:
    owner = {"recording": recording} if recording is not None else {"work": work}
    version = SplitVersion.objects.create(
        side="master" if recording is not None else "publishing",
        number=next(_seq),
        effective_from=timezone.now(),
        **owner,
    )
    SplitShare.objects.bulk_create(
        [SplitShare(version=version, party=p, bps=bps) for p, bps in shares]
    )
    return version


@dataclass
class Catalog:
    recording: Recording
    work: Work
    master: SplitVersion
    publishing: SplitVersion
    ana: Party  # artist 60% master, 50% publishing (both sides)
    bo: Party  # artist 40% master
    cy: Party  # songwriter 50% publishing
    users: dict = field(default_factory=dict)


@pytest.fixture
def cat(db) -> Catalog:
    return make_catalog()


def make_catalog() -> Catalog:
    ana_user = UserFactory(is_artist=True, is_songwriter=True)
    bo_user = UserFactory(is_artist=True)
    ana = make_party("Ana", "artist", ana_user)
    bo = make_party("Bo", "artist", bo_user)
    cy = make_party("Cy", "songwriter")
    work = Work.objects.create(title="Song")
    rec = Recording.objects.create(title="Song (master)", work=work)
    master = make_split(recording=rec, shares=[(ana, 6000), (bo, 4000)])
    publishing = make_split(work=work, shares=[(ana, 5000), (cy, 5000)])
    return Catalog(rec, work, master, publishing, ana, bo, cy, {"ana": ana_user, "bo": bo_user})


def settle(cat: Catalog, order_ref: str, gross: int = 1000, **kw):
    return settlement_post(
        order_ref=order_ref,
        gross_cents=gross,
        currency="usd",
        master_split_version=cat.master,
        publishing_split_version=cat.publishing,
        charge_id=kw.pop("charge_id", f"ch_{order_ref}"),
        transfer_group=f"order_{order_ref}",
        remix_ref=kw.pop("remix_ref", f"remix-{order_ref}"),
        recording=cat.recording,
        platform_fee_bps=kw.pop("platform_fee_bps", 2000),
        master_pool_bps=kw.pop("master_pool_bps", 5000),
        **kw,
    )


# --- A fake Stripe client, for tests that steer failures precisely ----------


class FakeStripeError(stripe.InvalidRequestError):
    pass


class FakeStripe:
    """Mimics the slice of `StripeClient.v1` royalties uses, with switches."""

    def __init__(self) -> None:
        self.transfers_by_key: dict[str, SimpleNamespace] = {}
        self.transfers: dict[str, SimpleNamespace] = {}
        self.reversals_by_key: dict[str, SimpleNamespace] = {}
        self.fail_transfers = False
        self.insufficient_balance: set[str] = set()  # destinations that cannot repay
        self.calls: list[tuple] = []
        n = itertools.count(1)
        self._id = lambda p: f"{p}_{next(n)}"
        fake = self

        class Reversals:
            def create(self, transfer_id, params=None, options=None):
                key = options["idempotency_key"]
                fake.calls.append(("reversal", transfer_id, params["amount"], key))
                if key in fake.reversals_by_key:
                    return fake.reversals_by_key[key]
                tr = fake.transfers[transfer_id]
                if tr.destination in fake.insufficient_balance:
                    err = stripe.InvalidRequestError(
                        "Insufficient funds in the connected account",
                        None,
                        code="balance_insufficient",
                        http_status=400,
                    )
                    raise err
                if tr.amount_reversed + params["amount"] > tr.amount:
                    raise stripe.InvalidRequestError("too much", None, http_status=400)
                tr.amount_reversed += params["amount"]
                rev = SimpleNamespace(id=fake._id("trr"), amount=params["amount"], transfer=tr.id)
                tr.reversals.append(rev)
                fake.reversals_by_key[key] = rev
                return rev

        class Transfers:
            reversals = Reversals()

            def create(self, params=None, options=None):
                key = options["idempotency_key"]
                fake.calls.append(("transfer", params["destination"], params["amount"], key))
                if key in fake.transfers_by_key:
                    return fake.transfers_by_key[key]
                if fake.fail_transfers:
                    raise stripe.InvalidRequestError(
                        "destination cannot receive",
                        None,
                        code="account_invalid",
                        http_status=400,
                    )
                tr = SimpleNamespace(
                    id=fake._id("tr"),
                    amount=params["amount"],
                    amount_reversed=0,
                    destination=params["destination"],
                    reversals=[],
                    transfer_group=params["transfer_group"],
                    source_transaction=params["source_transaction"],
                )
                fake.transfers[tr.id] = tr
                fake.transfers_by_key[key] = tr
                return tr

        self.v1 = SimpleNamespace(transfers=Transfers())


@pytest.fixture
def fake_stripe(monkeypatch) -> FakeStripe:
    fake = FakeStripe()
    monkeypatch.setattr("royalties.stripe_client.stripe_client", lambda: fake)
    return fake


def onboard(party: Party, account_id: str | None = None):
    payee, _ = Payee.objects.get_or_create(party=party)
    payee.stripe_account_id = account_id or f"acct_{party.pk}"
    payee.charges_enabled = payee.payouts_enabled = payee.transfers_active = True
    payee.details_submitted = True
    payee.save()
    return payee


# --- The local Stripe sandbox (real SDK over HTTP) ----------------------------


@pytest.fixture
def sandbox(settings):
    """A sandbox of this test's own: reconciliation lists every transfer Stripe
    holds, so transfers of other tests must not be there."""
    server = stripe_sandbox.start(
        port=0,
        webhook_url="http://127.0.0.1:9/unused",
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
    )
    settings.STRIPE_API_BASE = server.url.rstrip("/")
    try:
        yield server
    finally:
        server.stop()
