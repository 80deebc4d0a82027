"""The jobs sweep (Celery beat, every minute): nothing stays running past
its lease, nothing queued is forgotten.

1. A running stem set or rendering remix whose lease expired (its worker
   died, or a whole machine did), or whose holder is a dead process on the
   sweeping host, goes back to the queue; that counts as an
   attempt, so a job that kills its worker every time ends failed for good.
2. A pending stem set, or a queued or separating remix, whose task was
   queued long ago and never started is queued again: its message was lost
   (a Redis restart or flush, a filesystem queue wiped). Duplicates are
   harmless: the task claims the row first.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from remixing import job_runner
from remixing.leases import lease_is_live, requeue_after_seconds
from remixing.models import Remix, StemSet
from remixing.services import remix_enqueue, stemset_enqueue


def _lease_lost(model, running: str, now) -> list[int]:
    """Running jobs whose lease expired, or whose holder died on this host."""
    rows = model.objects.filter(status=running).values_list("pk", "lease_owner", "lease_expires_at")
    return [
        pk
        for pk, owner, expires_at in rows
        if not lease_is_live(owner=owner, expires_at=expires_at, now=now)
    ]


def jobs_sweep() -> dict[str, int]:
    now = timezone.now()
    counts = {"stem_sets_expired": 0, "remixes_expired": 0, "stem_sets_requeued": 0}
    counts["remixes_requeued"] = 0
    for pk in _lease_lost(StemSet, StemSet.Status.RUNNING, now):
        counts["stem_sets_expired"] += bool(job_runner.stemset_lease_expired(stem_set_id=pk))
    for pk in _lease_lost(Remix, Remix.Status.RENDERING, now):
        counts["remixes_expired"] += bool(job_runner.remix_lease_expired(remix_id=pk))
    forgotten = Q(queued_at__isnull=True) | Q(
        queued_at__lt=now - timedelta(seconds=requeue_after_seconds())
    )
    for stem_set in StemSet.objects.filter(forgotten, status=StemSet.Status.PENDING):
        stemset_enqueue(stem_set=stem_set)
        counts["stem_sets_requeued"] += 1
    waiting = [Remix.Status.QUEUED, Remix.Status.SEPARATING]
    for remix in Remix.objects.filter(forgotten, status__in=waiting).only("pk"):
        remix_enqueue(remix=remix)
        counts["remixes_requeued"] += 1
    return counts
