"""Payout pages: who sees what."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from royalties import enqueue
from royalties.models import Settlement, SettlementBlock
from royalties.services import refunds

from .conftest import settle


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(enqueue, "task_enqueue_on_commit", lambda *a: None)


@pytest.fixture
def sales(cat):
    settle(cat, "o1", gross=1000, remix_ref="remix-one")
    settle(cat, "o2", gross=299, remix_ref="remix-two")
    refunds.refund_post(refund_id="re_1", amount_cents=100, order_ref="o2")
    return cat


def _totals(html: str) -> dict[str, str]:
    """The totals card: label -> amount."""
    return dict(re.findall(r"<div><dt>([^<]+)</dt><dd>([^<]+)</dd></div>", html))


def _lines(html: str) -> list[tuple[str, ...]]:
    """The earning remixes table, row by row: side, share, amount, refunded."""
    fields = ("Side", "Share", "Amount", "Refunded")
    rows = html.split('<td data-label="Date">')[1:]
    return [
        tuple(re.search(rf'data-label="{name}">([^<]*)</td>', row).group(1) for name in fields)
        for row in rows
    ]


def _row(first_label: str, starts: str, html: str) -> list[str]:
    """The cells after the first one of the row whose first cell starts with `starts`."""
    row = re.search(
        rf'<td data-label="{first_label}">{re.escape(starts)}[^<]*</td>(.*?)</tr>', html
    )
    return re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))


def _cells(html: str, row_start: str) -> list[str]:
    row = html[html.index(row_start) + len(row_start) :]
    return re.findall(r"<td[^>]*>([^<]*)</td>", row[: row.index("</tr>")])


def test_anonymous_is_sent_to_login(client, db):
    resp = client.get(reverse("royalties:payouts"))
    assert resp.status_code == 302 and "login" in resp["Location"]


def test_owner_sees_earnings_remixes_and_chart(client, sales):
    client.force_login(sales.users["ana"])
    resp = client.get(reverse("royalties:payouts"))  # one party: its page directly
    assert resp.status_code == 200
    html = resp.content.decode()
    # No labeler knows these references: each sale reads as a remix of its recording.
    # two sales, master + publishing
    assert html.count('<td data-label="Remix">Remix of Song (master)</td>') == 4
    assert "remix-one" not in html
    assert "<svg" in html and "Set up payouts with Stripe" in html
    # ana, per line: o1 (10.00, 20% fee, half to each side) 60% of master 4.00 = 2.40
    # and 50% of publishing 4.00 = 2.00; o2 (2.99) 60% of 1.196 = 0.71 and 50% of
    # 1.196 = 0.60, each a third refunded (1.00 of 2.99): 0.24 and 0.20.
    assert _lines(html) == [
        ("Publishing", "50.00%", "0.60 USD", "0.20 USD"),
        ("Master", "60.00%", "0.71 USD", "0.24 USD"),
        ("Publishing", "50.00%", "2.00 USD", "—"),
        ("Master", "60.00%", "2.40 USD", "—"),
    ]
    # 2.40 + 2.00 + 0.71 + 0.60 - 0.24 - 0.20, nothing paid out yet.
    assert _totals(html) == {"Earned": "5.27 USD", "Paid out": "0.00 USD", "Owed": "5.27 USD"}
    # The month the sales were settled in (this test once named it, and failed on 1 December).
    settled = timezone.localtime(Settlement.objects.get(order_ref="o1").created_at)
    assert _row("Month", f"{settled:%B %Y}", html) == ["5.27 USD", "0.00 USD"]
    assert _row("Recording", "Song (master)", html) == ["2", "5.27 USD", "0.00 USD"]
    resp = client.get(reverse("royalties:party", args=[sales.ana.pk]))
    assert resp.status_code == 200
    assert _totals(resp.content.decode())["Earned"] == "5.27 USD"


def test_a_co_artists_page_shows_his_own_amounts(client, auditor, sales):
    # bo: 40% of master only: 1.60 on o1, 0.48 on o2 less 0.16 refunded.
    client.force_login(auditor)
    html = client.get(reverse("royalties:party", args=[sales.bo.pk])).content.decode()
    assert _lines(html) == [
        ("Master", "40.00%", "0.48 USD", "0.16 USD"),
        ("Master", "40.00%", "1.60 USD", "—"),
    ]
    assert _totals(html) == {"Earned": "1.92 USD", "Paid out": "0.00 USD", "Owed": "1.92 USD"}
    assert _row("Recording", "Song (master)", html) == ["2", "1.92 USD", "0.00 USD"]


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
    # Gross 10.00 + 2.99; cash net of the 1.00 refund; platform revenue is the
    # 20% fee (2.00 + 0.60) less its share of the refund (0.20); the rest is owed.
    assert _cells(html, "<tr><td>USD</td>") == [
        "2",
        "12.99 USD",
        "11.99 USD",
        "2.40 USD",
        "9.59 USD",
        "0.00 USD",
        "0.00 USD",
    ]
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


# The session and the user; the user's parties, their totals and payees; the
# one party again with its payee and totals; earnings by recording, by month,
# paid out by month; the lines; their transfers (each one query, whatever the
# number of sales).
PAYOUTS_PAGE_QUERIES = 13


@pytest.mark.parametrize("sales_count", [3, 60])
def test_payouts_page_costs_the_same_whatever_the_sales(
    client, cat, sales_count, django_assert_num_queries
):
    for n in range(sales_count):
        settle(cat, f"q{n}", gross=1000, remix_ref=f"remix-q{n}")
    client.force_login(cat.users["ana"])
    url = reverse("royalties:payouts")
    with django_assert_num_queries(PAYOUTS_PAGE_QUERIES):
        response = client.get(url)
    html = response.content.decode()
    # 4.40 a sale (2.40 master, 2.00 publishing), every line on the page.
    earned = 440 * sales_count
    assert _totals(html)["Earned"] == f"{earned // 100}.{earned % 100:02d} USD"
    assert len(_lines(html)) == 2 * sales_count
