"""Job events and failures: the one module that records what happened to a
remix or a stem set job (events, notices, failed and cancelled ends).

The job runner (`remixing.job_runner`), the sweep, the services and the
catalog reactions all end jobs through here, so a fan always gets the same
words and staff the same record.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from remixing.leases import lease_clear
from remixing.models import Remix, RemixEvent, RemixNotice, StemSet
from remixing.signals import remix_undelivered_send_on_commit

# What fans read. Plain words: what happened and what comes next.
STEMS_FAILED = (
    "We couldn't prepare this track for remixing. Our team has been told and will look "
    "into it; you don't need to do anything."
)
REMIX_NO_STEMS = "We couldn't prepare this track's stems, so your remix could not be made."


def remix_event_record(
    *,
    remix: Remix,
    from_status: str,
    to_status: str,
    actor_kind: str,
    actor=None,
    reason: str = "",
    consent_event_id: int | None = None,
    data: dict | None = None,
) -> RemixEvent:
    return RemixEvent.objects.create(
        remix=remix,
        from_status=from_status,
        to_status=to_status,
        actor_kind=actor_kind,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        consent_event_id=consent_event_id,
        attempt=remix.attempts,
        data=data or {},
    )


def remix_fan_note_record(*, remix: Remix, fan, reason: str, data: dict) -> RemixEvent:
    """Something the fan did that leaves the remix's status as it is (a take recorded
    or deleted, a recipe version saved for a reason), in the remix's story."""
    return remix_event_record(
        remix=remix,
        from_status=remix.status,
        to_status=remix.status,
        actor_kind=RemixEvent.Actor.FAN,
        actor=fan,
        reason=reason,
        data=data,
    )


@transaction.atomic
def remix_cancel(
    *,
    remix: Remix,
    reason: str,
    actor_kind: str = RemixEvent.Actor.SYSTEM,
    actor=None,
    consent_event_id: int | None = None,
    notify: bool = True,
) -> bool:
    """Cancel a queued or running render. True if this call cancelled it.

    The one place a remix becomes cancelled: it tells the fan, records the
    step, and announces `remix_undelivered` after commit (a paid order is
    refunded by its subscriber)."""
    remix = Remix.objects.select_for_update().get(pk=remix.pk)
    if remix.status not in Remix.ACTIVE_STATUSES:
        return False
    previous = remix.status
    remix.status = Remix.Status.CANCELLED
    remix.stage = "Cancelled"
    remix.error = reason
    remix.lease_owner, remix.lease_expires_at = "", None
    remix.save(
        update_fields=["status", "stage", "error", "lease_owner", "lease_expires_at", "updated_at"]
    )
    remix_event_record(
        remix=remix,
        from_status=previous,
        to_status=Remix.Status.CANCELLED,
        actor_kind=actor_kind,
        actor=actor,
        reason=reason,
        consent_event_id=consent_event_id,
    )
    if notify:
        RemixNotice.objects.create(
            fan_id=remix.fan_id,
            remix=remix,
            kind=RemixNotice.Kind.CANCELLED,
            message=f"Your remix “{remix.title}” was cancelled: {reason}",
        )
    remix_undelivered_send_on_commit(
        remix_id=remix.pk, status=Remix.Status.CANCELLED, reason=reason
    )
    return True


@transaction.atomic
def stemset_cancel_for_recordings(*, recording_ids: Iterable[int], reason: str) -> int:
    """Stop separating audio of recordings that may no longer be remixed:
    GPU time on a track without consent is neither allowed nor useful."""
    return StemSet.objects.filter(
        recording_id__in=list(recording_ids),
        status__in=[StemSet.Status.PENDING, StemSet.Status.RUNNING],
    ).update(
        status=StemSet.Status.CANCELLED,
        stage="Cancelled",
        error=reason,
        lease_owner="",
        lease_expires_at=None,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def stemset_end(stem_set: StemSet, status: str, *, message: str, detail: str = "") -> None:
    """Mark a set failed for good or cancelled, and end the remixes waiting on it."""
    stem_set.status = status
    stem_set.error = message[:2000]
    stem_set.error_detail = (detail or stem_set.error_detail)[:2000]
    stem_set.stage = "Failed" if status == StemSet.Status.FAILED else "Cancelled"
    stem_set.finished_at = timezone.now()
    lease_clear(stem_set)
    stem_set.save()
    for remix in Remix.objects.filter(stem_set=stem_set, status=Remix.Status.SEPARATING):
        if status == StemSet.Status.CANCELLED:
            remix_cancel(remix=remix, reason=message, actor_kind=RemixEvent.Actor.WORKER)
        else:
            remix_fail_for_good(remix=remix, reason=REMIX_NO_STEMS, detail=stem_set.error_detail)


def stemset_fail_by_id(stem_set_id: int, detail: str) -> None:
    """A bug outside the attempt's own handling (tasks' on_failure): end the
    set for good rather than leave it running, with the detail for staff."""
    with transaction.atomic():
        stem_set = (
            StemSet.objects.select_for_update()
            .filter(pk=stem_set_id, status__in=[StemSet.Status.RUNNING, StemSet.Status.PENDING])
            .first()
        )
        if stem_set is not None:
            stemset_end(stem_set, StemSet.Status.FAILED, message=STEMS_FAILED, detail=detail)


def remix_fail_for_good(*, remix: Remix, reason: str, detail: str = "") -> None:
    """The one place a remix becomes failed for good (its row locked by the
    caller): the fan is told `reason` in plain words, staff get `detail`,
    the step is recorded, and `remix_undelivered` is announced after commit
    (a paid order is refunded by its subscriber)."""
    previous = remix.status
    remix.status = Remix.Status.FAILED
    remix.error = reason[:2000]
    remix.error_detail = detail[:2000]
    remix.stage = "Failed"
    lease_clear(remix)
    remix.save(
        update_fields=[
            "status",
            "error",
            "error_detail",
            "stage",
            "lease_owner",
            "lease_expires_at",
            "updated_at",
        ]
    )
    remix_event_record(
        remix=remix,
        from_status=previous,
        to_status=Remix.Status.FAILED,
        actor_kind=RemixEvent.Actor.WORKER,
        reason=reason[:2000],
        data={"detail": detail[:2000]} if detail else None,
    )
    RemixNotice.objects.create(
        fan_id=remix.fan_id,
        remix=remix,
        kind=RemixNotice.Kind.FAILED,
        message=f"Your remix “{remix.title}” could not be made. {reason}",
    )
    remix_undelivered_send_on_commit(remix_id=remix.pk, status=Remix.Status.FAILED, reason=reason)


def remix_fail_by_id(
    remix_id: int, reason: str, *, detail: str = "", attempt: int | None = None
) -> bool:
    with transaction.atomic():
        qs = Remix.objects.select_for_update().filter(pk=remix_id, status__in=Remix.ACTIVE_STATUSES)
        if attempt is not None:
            qs = qs.filter(attempts=attempt)
        remix = qs.first()
        if remix is None:
            return False
        remix_fail_for_good(remix=remix, reason=reason, detail=detail)
        return True
