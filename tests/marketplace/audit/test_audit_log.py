"""The staff audit log: appended in the staff action's own transaction,
append-only in the database, hash-chained and verified by verify_audit_log."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from catalog import services as catalog_services
from catalog.audit_log import audit_find_first_break, staff_audit_append, staff_audit_verify
from catalog.models import Party, StaffAuditEntry, StaffAuditHead
from core.errors import DomainError
from tests.fixtures.accounts import UserFactory

from .conftest import bypass_audit_immutability


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_auditor=True, is_fan=False)


def _entries(staff, n=3):
    return [
        staff_audit_append(
            actor=staff,
            action="export",
            subject_type="export",
            subject_id=f"x{i}",
            reason="r",
            data={"rows": i, "f": {"b": 1, "a": [1, 2]}},
        )
        for i in range(n)
    ]


def test_append_chains_and_verifies(staff):
    entries = _entries(staff)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].hash
    assert StaffAuditHead.objects.get().seq == 3
    assert staff_audit_verify() is None
    call_command("verify_audit_log")


def test_database_refuses_update_and_delete(staff):
    entry = _entries(staff, 1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        StaffAuditEntry.objects.filter(pk=entry.pk).update(reason="edited")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            StaffAuditEntry.objects.filter(pk=entry.pk).delete()


def _verify_fails() -> str:
    with pytest.raises(CommandError) as error:
        call_command("verify_audit_log")
    assert error.value.returncode == 1
    assert "BROKEN" in str(error.value)
    return str(error.value)


def test_tampered_entry_is_caught(staff):
    entries = _entries(staff)
    bypass_audit_immutability()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_staffauditentry SET reason = 'nothing to see' WHERE id = %s",
            [entries[1].pk],
        )
    assert "entry #2" in _verify_fails()


def test_deleted_tail_is_caught_by_the_head(staff):
    entries = _entries(staff)
    bypass_audit_immutability()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_staffauditentry WHERE id = %s", [entries[-1].pk])
    assert "head says 3" in _verify_fails()


def test_pure_walker_spots_reordering():
    assert audit_find_first_break([], head_seq=0, head_hash=None) is None
    broken = audit_find_first_break(
        [{"seq": 2, "id": 9, "prev_hash": "x", "hash": "y"}], head_seq=None, head_hash=None
    )
    assert broken.seq == 2 and "expected entry #1" in broken.problem


def test_append_needs_an_actor(db):
    with pytest.raises(DomainError):
        staff_audit_append(actor=None, action="x", subject_type="y")


def test_takedown_is_logged_in_the_same_transaction(world, staff):
    catalog_services.takedown_place(recording=world.recording, actor=staff, reason="DMCA notice 42")
    entry = StaffAuditEntry.objects.get()
    assert (entry.action, entry.subject_type, entry.subject_id) == (
        "takedown.place",
        "recording",
        str(world.recording.pk),
    )
    assert entry.reason == "DMCA notice 42" and entry.actor == staff
    catalog_services.takedown_lift(recording=world.recording, actor=staff, reason="counter-notice")
    assert list(StaffAuditEntry.objects.values_list("action", flat=True)) == [
        "takedown.place",
        "takedown.lift",
    ]


def test_failed_takedown_leaves_no_entry(world, staff):
    catalog_services.takedown_place(recording=world.recording, actor=staff, reason="first")
    with pytest.raises(DomainError):
        catalog_services.takedown_place(recording=world.recording, actor=staff, reason="again")
    assert StaffAuditEntry.objects.count() == 1


def test_audit_append_failure_rolls_back_the_takedown(world, staff, monkeypatch):
    from catalog.models import Takedown

    def boom(**kwargs):
        raise RuntimeError("audit log down")

    monkeypatch.setattr("catalog.services.takedowns.staff_audit_append", boom)
    with pytest.raises(RuntimeError):
        catalog_services.takedown_place(recording=world.recording, actor=staff, reason="x")
    assert not Takedown.objects.exists()


def test_claim_verification_is_logged(db, staff):
    claimant = UserFactory(is_artist=True)
    party = Party.objects.create(kind="artist", name="Claimed")
    catalog_services.party_claim(party=party, user=claimant)
    catalog_services.party_claim_verify(
        party=party, staff_user=staff, approve=True, reason="ID checked"
    )
    entry = StaffAuditEntry.objects.get()
    assert entry.action == "claim.verify" and entry.data == {
        "claimant_user_id": claimant.pk,
        "approved": True,
    }
    assert entry.reason == "ID checked"


def test_staff_refund_is_logged(world, auditor, monkeypatch):
    from marketplace.audit.services import staff_order_refund

    calls = []
    monkeypatch.setattr(
        "marketplace.audit.services.order_refund_full",
        lambda *, order, reason: calls.append((order.pk, reason)) or order,
    )
    staff_order_refund(order=world.order, actor=auditor, reason="Fan charged twice")
    assert calls == [(world.order.pk, "Fan charged twice")]
    entry = StaffAuditEntry.objects.get(action="order.refund")
    assert entry.subject_id == str(world.order.pk) and entry.data["amount_cents"] == 500


def test_failed_refund_leaves_no_entry(world, auditor, monkeypatch):
    from marketplace.audit.services import staff_order_refund

    def refuse(*, order, reason):
        raise DomainError("Stripe refused", code="stripe")

    monkeypatch.setattr("marketplace.audit.services.order_refund_full", refuse)
    with pytest.raises(DomainError):
        staff_order_refund(order=world.order, actor=auditor, reason="x")
    assert not StaffAuditEntry.objects.exists()


def test_ledger_correction_is_logged(world, auditor):
    from marketplace.audit.services import staff_ledger_correction

    txn = world.settlement.transaction
    correction = staff_ledger_correction(
        txn_id=txn.pk, actor=auditor, reason="Posted twice by hand"
    )
    entry = StaffAuditEntry.objects.get(action="ledger.correction")
    assert entry.data == {"correction_transaction_id": correction.pk}
    assert correction.reverses_id == txn.pk
