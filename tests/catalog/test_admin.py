"""Admin: staff can browse everything; ledger rows cannot be changed there."""

import pytest
from django.test import Client

from catalog.models import ConsentEvent, SplitVersion

from .factories import remixable_recording, staff_user

pytestmark = pytest.mark.django_db


def test_admin_pages_load_and_ledger_is_read_only():
    remixable_recording()
    client = Client()
    client.force_login(staff_user())
    for model in (
        "party",
        "work",
        "recording",
        "splitversion",
        "consentevent",
        "consentstate",
        "takedown",
    ):
        assert client.get(f"/admin/catalog/{model}/").status_code == 200, model
    event = ConsentEvent.objects.first()
    version = SplitVersion.objects.first()
    assert client.get(f"/admin/catalog/consentevent/{event.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/catalog/consentevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/catalog/consentevent/add/").status_code == 403
    assert (
        client.post(
            f"/admin/catalog/splitversion/{version.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert ConsentEvent.objects.filter(pk=event.pk).exists()
