"""Payout pages: who sees what."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from royalties import services
from royalties.models import SettlementBlock

from .conftest import settle


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda *a: None)


@pytest.fixture
def sales(cat):
    settle(cat, "o1", gross=1000, remix_ref="remix-one")
    settle(cat, "o2", gross=299, remix_ref="remix-two")
    services.refund_post(refund_id="re_1", amount_cents=100, order_ref="o2")
    return cat


def test_anonymous_is_sent_to_login(client, db):
    resp = client.get(reverse("royalties:payouts"))
    assert resp.status_code == 302 and "login" in resp["Location"]


def test_owner_sees_earnings_remixes_and_chart(client, sales):
    client.force_login(sales.users["ana"])
    resp = client.get(reverse("royalties:payouts"))  # one party: its page directly
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "remix-one" in html and "remix-two" in html
    assert "<svg" in html and "Set up payouts with Stripe" in html
    assert "Song (master)" in html
    # ana: 440 on o1, on o2 (299): master 71.76->72? 0.6*119.6=71.76, publishing 59.8
    assert "Earned" in html
    resp = client.get(reverse("royalties:party", args=[sales.ana.pk]))
    assert resp.status_code == 200


def test_other_partys_page_is_404(client, sales):
    client.force_login(sales.users["ana"])
    assert client.get(reverse("royalties:party", args=[sales.bo.pk])).status_code == 404
    assert client.get(reverse("royalties:statement", args=[sales.bo.pk])).status_code == 404
    assert client.post(reverse("royalties:connect", args=[sales.bo.pk])).status_code == 404
    # unclaimed party (cy) too
    assert client.get(reverse("royalties:party", args=[sales.cy.pk])).status_code == 404
    assert client.get(reverse("royalties:party", args=[999999])).status_code == 404


def test_fan_sees_an_empty_state(client, fan, sales):
    client.force_login(fan)
    resp = client.get(reverse("royalties:payouts"))
    assert resp.status_code == 200
    assert b"don't hold rights" in resp.content
    assert client.get(reverse("royalties:party", args=[sales.ana.pk])).status_code == 404


def test_auditor_sees_platform_totals_and_blocks(client, auditor, sales):
    SettlementBlock.objects.create(order_ref="o-bad", reason="master split sums to 9000")
    client.force_login(auditor)
    resp = client.get(reverse("royalties:payouts"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "Platform totals" in html and "o-bad" in html
    assert "12.99 USD" in html  # gross 1000 + 299
    # Auditors can read a party page but not onboard for it.
    resp = client.get(reverse("royalties:party", args=[sales.bo.pk]))
    assert resp.status_code == 200 and b"Set up payouts" not in resp.content


def test_statement_csv_for_a_date_range(client, sales):
    client.force_login(sales.users["ana"])
    url = reverse("royalties:statement", args=[sales.ana.pk])
    resp = client.get(url, {"start": "2000-01-01", "end": "2999-12-31"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert {r["order"] for r in rows} == {"o1", "o2"}
    # The party's position: everything earned net of the refund.
    total = sum(int(r["party_cents"]) for r in rows)
    from royalties.models import SettlementLine

    want = sum(ln.net_cents for ln in SettlementLine.objects.filter(party=sales.ana))
    assert total == want
    assert client.get(url, {"start": "1999-01-01", "end": "1999-12-31"}).content.count(b"\n") == 1
    assert client.get(url, {"start": "yesterday"}).status_code == 400
