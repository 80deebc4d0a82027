"""The consent ledger is append-only in the database, and tampering behind
the ORM's back is caught by verify_consent_chain."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from catalog import services
from catalog.models import ConsentEvent
from catalog.selectors import consent_chain_verify

from .factories import RecordingFactory, artist_user, credit, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    """Six events by two artists and staff."""
    user, party = artist_user("A")
    other_user, other = artist_user("B")
    recording = RecordingFactory()
    credit(recording, party)
    services.consent_grant(party=party, actor=user, reason="first")
    services.consent_grant(party=other, actor=other_user)
    services.consent_revoke(party=party, actor=user, recording=recording, reason="not this one")
    services.consent_terms_change(party=other, actor=other_user, terms={"tempo": False})
    staff = staff_user()
    services.takedown_place(recording=recording, actor=staff, reason="claim")
    services.takedown_lift(recording=recording, actor=staff, reason="resolved")
    return list(ConsentEvent.objects.order_by("seq"))


def _bypass_immutability(cursor):
    """What an attacker with database access would do first."""
    if connection.vendor == "postgresql":
        # Flush deferred FK checks first: ALTER TABLE refuses pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE catalog_consentevent DISABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        cursor.execute("DROP TRIGGER catalog_consentevent_no_update")


def _verify_fails(match: str | None = None) -> str:
    with pytest.raises(CommandError) as error:
        call_command("verify_consent_chain")
    assert error.value.returncode == 1
    message = str(error.value)
    assert "BROKEN" in message
    if match:
        assert match in message
    return message


def test_intact_chain_verifies(ledger, capsys):
    call_command("verify_consent_chain")
    assert "6 events verified" in capsys.readouterr().out
    prev = "0" * 64
    for event in ledger:
        assert event.prev_hash == prev
        prev = event.hash


def test_empty_chain_verifies():
    assert consent_chain_verify() is None


def test_database_refuses_update_and_delete(ledger):
    event = ledger[2]
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 — backend-specific error
        ConsentEvent.objects.filter(pk=event.pk).update(reason="edited")
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017
        ConsentEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(Exception), transaction.atomic(), connection.cursor() as cursor:  # noqa: B017
        cursor.execute("UPDATE catalog_consentevent SET reason = 'x'")
    assert consent_chain_verify() is None


def test_edited_event_is_named(ledger):
    target = ledger[2]
    with connection.cursor() as cursor:
        _bypass_immutability(cursor)
        cursor.execute(
            "UPDATE catalog_consentevent SET reason = %s WHERE id = %s", ["forged", target.pk]
        )
    _verify_fails(f"event #{target.seq}")


def test_edited_terms_are_caught(ledger):
    target = ledger[0]
    with connection.cursor() as cursor:
        _bypass_immutability(cursor)
        cursor.execute(
            "UPDATE catalog_consentevent SET terms = %s WHERE id = %s",
            ['{"stem_volume": true}', target.pk],
        )
    _verify_fails("event #1")


def test_rehashed_edit_still_breaks_the_next_link(ledger):
    """An attacker who recomputes the edited event's own hash breaks the link after it."""
    from catalog.chain import canonical_time, event_hash

    target = ledger[1]
    content = {
        "seq": target.seq,
        "kind": target.kind,
        "party_id": target.party_id,
        "recording_id": target.recording_id,
        "actor_id": target.actor_id,
        "created_at": canonical_time(target.created_at),
        "reason": "forged",
        "terms": target.terms,
        "prev_hash": target.prev_hash,
    }
    with connection.cursor() as cursor:
        _bypass_immutability(cursor)
        cursor.execute(
            "UPDATE catalog_consentevent SET reason = %s, hash = %s WHERE id = %s",
            ["forged", event_hash(content), target.pk],
        )
    _verify_fails(f"event #{target.seq + 1}")


def test_deleted_event_is_caught(ledger):
    target = ledger[3]
    with connection.cursor() as cursor:
        _bypass_immutability(cursor)
        cursor.execute("DELETE FROM catalog_takedown")
        cursor.execute("DELETE FROM catalog_consentstate WHERE event_id = %s", [target.pk])
        cursor.execute("DELETE FROM catalog_consentevent WHERE id = %s", [target.pk])
    _verify_fails(f"event #{target.seq + 1}")


def test_deleted_tail_is_caught_by_the_head(ledger):
    last = ledger[-1]
    with connection.cursor() as cursor:
        _bypass_immutability(cursor)
        cursor.execute("DELETE FROM catalog_takedown")
        cursor.execute("DELETE FROM catalog_consentevent WHERE id = %s", [last.pk])
    _verify_fails("head")


def test_reordered_events_are_caught(ledger):
    first, second = ledger[1], ledger[2]
    with connection.cursor() as cursor:
        _bypass_immutability(cursor)
        cursor.execute("UPDATE catalog_consentevent SET seq = 1000 WHERE id = %s", [first.pk])
        cursor.execute(
            "UPDATE catalog_consentevent SET seq = %s WHERE id = %s", [first.seq, second.pk]
        )
        cursor.execute(
            "UPDATE catalog_consentevent SET seq = %s WHERE id = %s", [second.seq, first.pk]
        )
    _verify_fails(f"event #{first.seq}")
