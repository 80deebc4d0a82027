"""Cancelling jobs and taking remixes down when the catalog says so.

Called from the catalog signal receivers (`remixing.receivers`) and usable
from staff tools. Running tasks notice a cancellation at their next progress
write or stage boundary and stop (see `remixing.jobs`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from remixing.models import Remix, RemixEvent, RemixNotice, StemSet

from .remixes import remix_event_record, remix_unpublish


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
    """Cancel a queued or running render. True if this call cancelled it."""
    remix = Remix.objects.select_for_update().get(pk=remix.pk)
    if remix.status not in Remix.ACTIVE_STATUSES:
        return False
    previous = remix.status
    remix.status = Remix.Status.CANCELLED
    remix.stage = "Cancelled"
    remix.error = reason
    remix.save(update_fields=["status", "stage", "error", "updated_at"])
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
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def remixes_cancel_for_recordings(
    *,
    recording_ids: Iterable[int],
    reason: str,
    unpublish: bool,
    consent_event_id: int | None = None,
) -> dict[str, int]:
    """The reaction to a revocation or takedown: cancel queued and running
    jobs of these recordings, and unpublish their remixes when `unpublish`.

    Each remix is its own transaction, so one bad row cannot keep the rest
    published.
    """
    recording_ids = list(recording_ids)
    cancelled = unpublished = 0
    for remix in Remix.objects.filter(
        recording_id__in=recording_ids, status__in=Remix.ACTIVE_STATUSES
    ).only("pk"):
        cancelled += remix_cancel(
            remix=remix,
            reason=reason,
            actor_kind=RemixEvent.Actor.CATALOG,
            consent_event_id=consent_event_id,
        )
    stemsets = stemset_cancel_for_recordings(recording_ids=recording_ids, reason=reason)
    if unpublish:
        for remix in Remix.objects.filter(
            recording_id__in=recording_ids, status=Remix.Status.PUBLISHED
        ).only("pk"):
            remix_unpublish(
                remix=remix,
                actor_kind=RemixEvent.Actor.CATALOG,
                reason=reason,
                consent_event_id=consent_event_id,
            )
            unpublished += 1
    return {"cancelled": cancelled, "unpublished": unpublished, "stem_sets_cancelled": stemsets}
