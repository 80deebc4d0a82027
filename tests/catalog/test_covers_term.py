"""The "covers" consent term (issue 17, item 3): off by default, switched in
the artist's consent settings, written to the consent ledger with its hash
chain, and read by the remixability rule the studio serves."""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from catalog.chain import GENESIS_HASH, event_hash
from catalog.models import ConsentEvent
from catalog.selectors import consent_chain_verify, recording_remixability
from catalog.terms import DEFAULT_CONSENT_TERMS, TERM_LABELS

from .factories import remixable_recording

pytestmark = pytest.mark.django_db


def _switch(client, party, *, covers: bool, reason: str):
    data = {key: "on" for key, value in DEFAULT_CONSENT_TERMS.items() if value}
    if covers:
        data["covers"] = "on"
    data["reason"] = reason
    url = reverse("catalog:consent_terms", args=[party.pk])
    return client.post(url, data)


def test_covers_is_off_until_the_artist_switches_it_on_and_back_off():
    song, party, owner = remixable_recording("Nova", title="Blue Hour")
    assert recording_remixability(recording=song).terms["covers"] is False
    client = Client()
    client.force_login(owner)
    form = client.get(reverse("catalog:consent_terms", args=[party.pk])).content.decode()
    assert TERM_LABELS["covers"] in form and 'name="covers"' in form

    assert _switch(client, party, covers=True, reason="sing along").status_code == 302
    on = ConsentEvent.objects.latest("seq")
    assert on.kind == "terms_change" and on.terms["covers"] is True
    assert recording_remixability(recording=song).terms["covers"] is True

    assert _switch(client, party, covers=False, reason="no more covers").status_code == 302
    off = ConsentEvent.objects.latest("seq")
    assert off.seq == on.seq + 1 and off.terms["covers"] is False
    assert recording_remixability(recording=song).terms["covers"] is False

    # The chain links the two switches, and each hash covers the covers term.
    assert off.prev_hash == on.hash
    events = list(ConsentEvent.objects.order_by("seq").values())
    prev = GENESIS_HASH
    for event in events:
        assert event["prev_hash"] == prev
        prev = event["hash"]
    assert consent_chain_verify() is None
    call_command("verify_consent_chain")
    history = client.get(reverse("catalog:consent_history", args=[party.pk])).content.decode()
    assert "sing along" in history and "no more covers" in history


def test_flipping_the_stored_covers_term_breaks_the_chain():
    _song, party, owner = remixable_recording("Nova", title="Blue Hour")
    client = Client()
    client.force_login(owner)
    _switch(client, party, covers=True, reason="sing along")
    event = ConsentEvent.objects.latest("seq")
    forged = dict(event.terms, covers=False)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE catalog_consentevent DISABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute("DROP TRIGGER catalog_consentevent_no_update")
        cursor.execute(
            "UPDATE catalog_consentevent SET terms = %s WHERE id = %s",
            [json.dumps(forged), event.pk],
        )
    broken = consent_chain_verify()
    assert broken is not None and broken.seq == event.seq
    assert "content does not match its hash" in broken.problem
    assert event_hash  # the same hash function the golden tests pin
