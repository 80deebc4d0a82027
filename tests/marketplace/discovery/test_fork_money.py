"""A paid export of a fork: the money follows the original recording's split
versions, to the cent, and the remixer whose remix inspired it gets nothing
(credited on the page, not paid)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from marketplace.billing.fulfilment import order_settle
from marketplace.billing.services.orders import order_checkout_start
from remixing.models import Remix
from remixing.services.remixes import remix_create, remix_fork
from royalties.models import Settlement
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle
from tests.marketplace.test_money_end_to_end import URLS

pytestmark = pytest.mark.django_db


def _lines(order) -> dict[int, int]:
    settlement = Settlement.objects.get(order_ref=f"order_{order.pk}")
    return {
        line.party_id: line.amount_cents
        for line in settlement.lines.exclude(party=None).order_by("party_id")
    }


def test_a_paid_fork_pays_the_recordings_holders_exactly_as_its_parent(
    stripe_plans,
    stripe_events,
    make_recording,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = str(tmp_path)
    stripe_events.skip()
    recording, _ = make_recording(official_stems=True, title="Blue Hour")
    ada = UserFactory(handle="ada_money")
    entitle(ada)
    parent = remix_create(fan=ada, recording=recording, recipe={"version": 1})
    Remix.objects.filter(pk=parent.pk).update(
        status=Remix.Status.PUBLISHED,
        title="Blue Dusk",
        allow_forks=True,
        paid_at=timezone.now(),
        published_at=timezone.now(),
    )
    parent.refresh_from_db()
    bo = UserFactory(handle="bo_money")
    entitle(bo)
    fork = remix_fork(fan=bo, parent=parent)
    assert fork.parent_id == parent.pk
    orders = []
    for fan, remix in ((ada, parent), (bo, fork)):
        if remix is parent:
            Remix.objects.filter(pk=parent.pk).update(status=Remix.Status.DRAFT)
            remix.refresh_from_db()
        order = order_checkout_start(fan=fan, remix=remix, **URLS)
        stripe_events.sandbox.pay(order.checkout_url)
        stripe_events.deliver()
        order.refresh_from_db()
        order_settle(order=order)
        orders.append(order)
    parent_lines, fork_lines = (_lines(order) for order in orders)
    assert fork_lines == parent_lines  # same parties, same cents
    holders = {share.party_id for share in parent.master_split_version.shares.all()}
    holders |= {share.party_id for share in parent.publishing_split_version.shares.all()}
    assert set(fork_lines) == holders
    # The inspiring remixer holds no share of the recording: no line, no cent.
    assert not Settlement.objects.filter(lines__party__user=ada).exists()
