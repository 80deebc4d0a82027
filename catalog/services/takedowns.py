"""Takedowns: staff removal of a recording, recorded in the consent ledger."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from catalog import signals
from catalog.audit_log import Action, staff_audit_append
from catalog.models import ConsentEvent, Recording, Takedown
from core.errors import Conflict, DomainError, PermissionDenied

from .ledger import ledger_append, ledger_lock
from .listing_state import recording_remixability_refresh


def _require_staff(actor) -> None:
    if not (actor and actor.is_authenticated and actor.is_staff):
        raise PermissionDenied("Only staff can place or lift takedowns.")


@transaction.atomic
def takedown_place(*, recording: Recording, actor, reason: str) -> Takedown:
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for the takedown.", fields={"reason": ["Required."]})
    # The ledger head first, as consent events take it: locking the
    # recording first could deadlock with a consent change refreshing it.
    ledger_lock()
    if Takedown.objects.filter(recording=recording, lifted_event__isnull=True).exists():
        raise Conflict("A takedown is already in force.", fields={"recording": ["Taken down."]})
    event = ledger_append(
        kind=ConsentEvent.Kind.TAKEDOWN_PLACE, actor=actor, recording=recording, reason=reason
    )
    takedown = Takedown.objects.create(
        recording=recording, reason=reason, placed_event=event, placed_at=event.created_at
    )
    recording_remixability_refresh(recording_ids=[recording.pk])
    # Same transaction as the takedown: no takedown without its audit entry.
    staff_audit_append(
        actor=actor,
        action=Action.TAKEDOWN_PLACE,
        subject_type="recording",
        subject_id=recording.pk,
        reason=reason,
        data={"takedown_id": takedown.pk, "consent_event_id": event.pk},
    )
    transaction.on_commit(
        partial(
            signals.takedown_placed.send,
            sender=Takedown,
            recording_ids=[recording.pk],
            reason=reason,
            event_id=event.pk,
        )
    )
    return takedown


@transaction.atomic
def takedown_lift(*, recording: Recording, actor, reason: str) -> Takedown:
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for lifting.", fields={"reason": ["Required."]})
    ledger_lock()
    takedown = (
        Takedown.objects.select_for_update()
        .filter(recording=recording, lifted_event__isnull=True)
        .first()
    )
    if takedown is None:
        raise Conflict("No takedown is in force.", fields={"recording": ["Not taken down."]})
    event = ledger_append(
        kind=ConsentEvent.Kind.TAKEDOWN_LIFT, actor=actor, recording=recording, reason=reason
    )
    takedown.lifted_event = event
    takedown.lifted_at = event.created_at
    takedown.save(update_fields=["lifted_event", "lifted_at"])
    recording_remixability_refresh(recording_ids=[recording.pk])
    staff_audit_append(
        actor=actor,
        action=Action.TAKEDOWN_LIFT,
        subject_type="recording",
        subject_id=recording.pk,
        reason=reason,
        data={"takedown_id": takedown.pk, "consent_event_id": event.pk},
    )
    transaction.on_commit(
        partial(
            signals.takedown_lifted.send,
            sender=Takedown,
            recording_ids=[recording.pk],
            event_id=event.pk,
        )
    )
    return takedown
