"""Staff views and exports name fans and staff by handle; an address typed into
a filter is not written into the append-only log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import StaffAuditEntry


@pytest.mark.parametrize(
    "url",
    [
        lambda w: reverse("marketplace:audit_remixes"),
        lambda w: reverse("marketplace:audit_remixes") + "?format=csv",
        lambda w: reverse("marketplace:audit_remix_trail", args=[w.remix.pk]),
        lambda w: reverse("marketplace:audit_artist_report", args=[w.artist.pk]),
        lambda w: reverse("marketplace:audit_artist_report", args=[w.artist.pk]) + "?format=csv",
        lambda w: reverse("marketplace:audit_artist_report", args=[w.artist.pk]) + "?print=1",
        lambda w: reverse("marketplace:audit_log"),
        lambda w: reverse("marketplace:audit_log") + "?format=csv",
    ],
)
def test_audit_pages_and_exports_name_people_by_handle(world, client, auditor, url):
    client.force_login(auditor)
    client.get(reverse("marketplace:audit_remixes") + "?format=csv")  # an entry by the auditor
    body = client.get(url(world)).content.decode()
    assert world.fan.email not in body
    assert auditor.email not in body
    assert world.fan.handle in body or auditor.handle in body


def test_search_by_handle_and_email_still_finds_the_fan(world, client, auditor):
    client.force_login(auditor)
    for term in (world.fan.handle.upper(), world.fan.email):
        page = client.get(reverse("marketplace:audit_remixes"), {"fan": term}).content.decode()
        assert world.remix.title in page


def test_an_email_typed_into_an_export_filter_is_not_logged(world, client, auditor):
    client.force_login(auditor)
    client.get(reverse("marketplace:audit_remixes"), {"fan": world.fan.email, "format": "csv"})
    entry = StaffAuditEntry.objects.filter(action="export").latest("seq")
    assert world.fan.email not in str(entry.data)
    assert entry.data["filters"]["fan"] == "[email address]"
