"""Payout pages name each remix by its title and remixer (issue 18: payouts
showed "remix_3"); royalties asks marketplace through its labeler hook."""

from __future__ import annotations

import pytest

from marketplace.billing.fulfilment import order_settle
from marketplace.billing.services.orders import order_checkout_start
from tests.marketplace.billing.factories import entitle, make_remix
from tests.marketplace.test_money_end_to_end import URLS

pytestmark = pytest.mark.django_db


def test_the_artist_reads_which_remix_earned_the_money(fan, client, stripe_plans, stripe_events):
    entitle(fan)
    fan.display_name = "Frankie Fan"
    fan.save(update_fields=["display_name"])
    stripe_events.skip()
    remix = make_remix(owner=fan)
    remix.title = "Neon Dusk Edit"
    remix.save(update_fields=["title"])
    order = order_checkout_start(fan=fan, remix=remix, **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()
    order.refresh_from_db()
    order_settle(order=order)

    artist = remix.master_split_version.shares.get().party
    client.force_login(artist.user)
    page = client.get(f"/payouts/party/{artist.pk}/").content.decode()
    assert "“Neon Dusk Edit” by Frankie Fan" in page
    assert f"remix_{remix.pk}" not in page
