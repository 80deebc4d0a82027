"""Cancelling jobs and taking remixes down when the catalog says so.

Called from the catalog signal receivers (`remixing.receivers`) and usable
from staff tools. Running tasks notice a cancellation at their next progress
write or stage boundary and stop (see `remixing.job_runner`).
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog.selectors import recording_remixability
from remixing.models import Remix, RemixEvent, RemixNotice

from .job_records import remix_cancel, stemset_cancel_for_recordings
from .remixes import remix_unpublish


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


def remixes_notify_republishable(*, recording_ids: Iterable[int]) -> int:
    """Consent is back (a re-grant, a lifted takedown): tell each fan whose
    remix of these recordings the catalog unpublished that they may publish
    it again, once per unpublication. Returns how many were told."""
    told = 0
    remixes = Remix.objects.filter(
        recording_id__in=list(recording_ids),
        status=Remix.Status.READY,
        unpublished_at__isnull=False,
        events__actor_kind=RemixEvent.Actor.CATALOG,
        events__to_status=Remix.Status.READY,
    ).select_related("recording")
    for remix in remixes.distinct():
        verdict = recording_remixability(recording=remix.recording)
        if not verdict.remixable or verdict.terms.get("publication") is not True:
            continue
        already = remix.notices.filter(
            kind=RemixNotice.Kind.REPUBLISHABLE, created_at__gte=remix.unpublished_at
        )
        if already.exists():
            continue
        RemixNotice.objects.create(
            fan_id=remix.fan_id,
            remix=remix,
            kind=RemixNotice.Kind.REPUBLISHABLE,
            message=(
                f"Good news: “{remix.recording.title}” is open for remixes again, so you can "
                f"publish “{remix.title or 'your remix'}” again."
            ),
        )
        told += 1
    return told
