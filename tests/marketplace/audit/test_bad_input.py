"""Bad input to the audit pages: a 4xx, never a 500 (on PostgreSQL too, where
a NUL in a search reaches the database as a DataError)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from royalties.models import Transfer

SEARCHES = [
    ("marketplace:audit_remixes", [], ["artist", "recording", "fan", "status", "from", "to"]),
    ("marketplace:audit_remixes", [], ["party", "recording_id", "page", "format"]),
    ("marketplace:audit_log", [], ["action", "actor", "from", "to", "page"]),
    ("marketplace:audit_artists", [], ["q"]),
    ("marketplace:audit_dashboard", [], ["q"]),
]


@pytest.mark.parametrize(("name", "args", "params"), SEARCHES)
def test_nul_in_a_search_is_400(world, client, auditor, name, args, params):
    client.force_login(auditor)
    response = client.get(reverse(name, args=args), dict.fromkeys(params, "night\x00drive"))
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_nul_in_an_artist_report_date_is_400(world, client, auditor):
    client.force_login(auditor)
    url = reverse("marketplace:audit_artist_report", args=[world.artist.pk])
    assert client.get(url, {"from": "2026-01-01\x00"}).status_code == 400


@pytest.mark.parametrize(
    "value", ["1\x00", "x" * 5000, "-1", "99999999999999999999999", "١٢", "9999-12-31"]
)
def test_odd_but_nul_free_searches_are_answered(world, client, auditor, value):
    client.force_login(auditor)
    for name in ("marketplace:audit_remixes", "marketplace:audit_log"):
        params = {"artist": value, "actor": value, "party": value, "page": value}
        params |= {"from": value, "to": value}
        if "\x00" in value:
            assert client.get(reverse(name), params).status_code == 400
        else:
            assert client.get(reverse(name), params).status_code == 200


def test_retrying_a_transfer_that_does_not_exist_is_404(world, client, auditor):
    client.force_login(auditor)
    missing = (Transfer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    url = reverse("marketplace:audit_transfer_retry", args=[missing])
    assert client.post(url, {"reason": "Payee fixed their bank account"}).status_code == 404


@pytest.mark.parametrize("pk", ["abc", "1.5", "-1", "99999999999999999999999"])
def test_an_audit_record_with_a_malformed_id_is_404(world, client, auditor, pk):
    client.force_login(auditor)
    assert client.get(reverse("marketplace:audit_record", args=["order", pk])).status_code == 404


def test_nul_in_a_posted_reason_is_400(world, client, auditor):
    client.force_login(auditor)
    url = reverse("marketplace:audit_order_refund", args=[world.order.pk])
    assert client.post(url, {"reason": "because\x00"}).status_code == 400
