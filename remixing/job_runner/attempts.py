"""One attempt at a job (a stem set or a remix render): its claim and lease, its
progress, and the exceptions that end it early. See the package docstring."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.db import connection, connections, transaction
from django.utils import timezone

from remixing.leases import (
    lease_expiry,
    lease_is_live,
    lease_seconds,
    max_attempts,
    worker_identity,
)
from remixing.models import Remix, StemSet
from remixing.storage import work_dir

logger = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_S = 0.5


class JobCancelled(Exception):
    """The job's remix or stem set was cancelled while it ran."""


class JobSuperseded(Exception):
    """Another attempt claimed the job; this one must not write anything."""


class JobFailed(Exception):
    """A failure that retrying will not fix; the detail is shown to staff."""


def failure_detail(error: BaseException) -> str:
    return f"{error.__class__.__name__}: {error}"[:2000]


def _running_status(model) -> str:
    return StemSet.Status.RUNNING if model is StemSet else Remix.Status.RENDERING


def attempt_in_run(job) -> int:
    # Attempts granted by the last (re)start: attempt_limit - max_attempts().
    return max(1, job.attempts - (job.attempt_limit - max_attempts()))


def job_wait_seconds(*, model, pk: int) -> float:
    """How long a "busy" task should wait before it checks again: until the
    lease expires (or a backoff is due), plus a second."""
    row = model.objects.filter(pk=pk).values("lease_expires_at", "queued_at").first()
    now = timezone.now()
    due = max((t for t in (row or {}).values() if t is not None), default=now)
    return min(max(1.0, (due - now).total_seconds() + 1.0), lease_seconds() + 60.0)


class Progress:
    """Throttled progress writer that doubles as heartbeat (it renews the
    lease) and stop check."""

    def __init__(self, *, model, pk: int, attempt: int, start: int, end: int):
        self.model, self.pk, self.attempt = model, pk, attempt
        self.running_status = _running_status(model)
        self.start, self.end = start, end
        self._last_write = 0.0
        self._last_stage = None

    def __call__(self, fraction: float, stage: str = "") -> None:
        now = time.monotonic()
        if stage == self._last_stage and now - self._last_write < PROGRESS_MIN_INTERVAL_S:
            return
        self._last_write, self._last_stage = now, stage
        fraction = min(1.0, max(0.0, float(fraction)))
        fields = {"progress": int(self.start + (self.end - self.start) * fraction)}
        if stage:
            fields["stage"] = stage[:200]
        self.write(**fields)

    def write(self, **fields) -> None:
        now = timezone.now()
        fields.setdefault("updated_at", now)
        fields["lease_expires_at"] = lease_expiry(now)
        updated = self.model.objects.filter(
            pk=self.pk, attempts=self.attempt, status=self.running_status
        ).update(**fields)
        if not updated:
            self.raise_why()

    def check(self) -> None:
        """Stage boundary: stop if cancelled or superseded; renew the lease."""
        self.write()

    def raise_why(self) -> None:
        row = self.model.objects.filter(pk=self.pk).values("status", "attempts").first()
        if row is None or row["status"] == "cancelled":
            raise JobCancelled
        raise JobSuperseded


@contextmanager
def lease_kept(progress: Progress) -> Iterator[None]:
    """Renew the lease from a side thread while the job runs, so one long
    call that reports no progress (a time-stretch, a model load) does not
    look like a dead worker. A killed process stops renewing at once; a hung
    one is ended by Celery's hard time limit. Not inside an atomic block (a
    test's transaction): a second connection could not see the row."""
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()
    keeper = threading.Thread(
        target=_lease_keep, args=(progress, stop), daemon=True, name="lease-keeper"
    )
    keeper.start()
    try:
        yield
    finally:
        stop.set()


def _lease_keep(progress: Progress, stop: threading.Event) -> None:
    interval = max(1.0, lease_seconds() / 3)
    try:
        while not stop.wait(interval):
            renewed = progress.model.objects.filter(
                pk=progress.pk, attempts=progress.attempt, status=progress.running_status
            ).update(lease_expires_at=lease_expiry())
            if not renewed:
                return  # cancelled or superseded: the main thread finds out itself
    except Exception:
        logger.warning("lease keeper of %s %s stopped", progress.model.__name__, progress.pk)
    finally:
        connections.close_all()  # this thread's own connections


def lease_take(job, now) -> None:
    job.attempts += 1
    job.lease_owner = worker_identity()
    job.lease_expires_at = lease_expiry(now)
    job.progress = 0
    job.stage = "Starting"


def claim_blocked(job, now) -> bool:
    """Someone else holds a live lease, or a backoff is not due yet."""
    if job.status == _running_status(type(job)):
        return lease_is_live(owner=job.lease_owner, expires_at=job.lease_expires_at, now=now)
    return job.queued_at is not None and job.queued_at > now + timedelta(seconds=1)


def interrupted_detail(job) -> str:
    return (
        f"Attempt {job.attempts} was interrupted: its worker ({job.lease_owner or 'unknown'}) "
        "stopped renewing its lease."
    )


# The steps every job takes the same way, around what each kind does itself. Each
# `*_locked` step runs inside the caller's transaction.


def job_locked(model, pk: int, **where):
    """The job's row, locked (its own row only), with its recording; None if no row
    of that id matches `where`."""
    return (
        model.objects.select_for_update(of=("self",))
        .select_related("recording")
        .filter(pk=pk, **where)
        .first()
    )


def job_claim_locked(model, pk: int, *, waiting: tuple[str, ...]):
    """A claim's opening: the job, locked, when a worker may take it now; else why not:
    "missing", "skipped" (its status is not one of `waiting`: done, cancelled, failed
    for good) or "busy" (a live lease elsewhere, or a backoff not due yet)."""
    job = job_locked(model, pk)
    if job is None:
        return "missing"
    if job.status not in waiting:
        return "skipped"
    if claim_blocked(job, timezone.now()):
        return "busy"
    return job


def job_finish_locked(model, pk: int, attempt: int):
    """A finish's opening: the job, locked, while attempt `attempt` still holds it;
    else "cancelled" or "superseded", and the attempt writes nothing."""
    job = job_locked(model, pk)
    if job is None or job.status == "cancelled":
        return "cancelled"
    if job.attempts != attempt or job.status != _running_status(model):
        return "superseded"
    return job


def job_attempt_failed(model, pk: int, attempt: int, *, then: Callable) -> str:
    """Attempt `attempt` ended without output: `then(job)` decides what comes next
    (retry or fail), unless another attempt holds the job by now ("superseded")."""
    with transaction.atomic():
        job = job_locked(model, pk, attempts=attempt, status=_running_status(model))
        if job is None:
            return "superseded"
        return then(job)


def job_lease_expired(model, pk: int, *, requeue: Callable) -> str:
    """Sweep: a running job whose lease expired (or whose holder died on this host)
    goes back to the queue now, through `requeue(job, detail=..., delay=0)`; the
    interruption counts as an attempt. "" if its lease is live after all."""
    with transaction.atomic():
        job = job_locked(model, pk, status=_running_status(model))
        if job is None or lease_is_live(owner=job.lease_owner, expires_at=job.lease_expires_at):
            return ""
        return requeue(job, detail=interrupted_detail(job), delay=0)


def job_run(claim, *, model, end: int, scratch: str, work: Callable, failed: Callable) -> str:
    """One claimed attempt (`claim`: the job and its attempt, or the claim's outcome
    word, returned as is): `work(job, attempt, progress, folder)` runs with `progress`
    as its heartbeat, the lease renewed from a side thread and a scratch folder.
    Cancelled or superseded, it ends quietly; any other exception ends the attempt
    through `failed(job, attempt, error)`."""
    if isinstance(claim, str):
        return claim
    job, attempt = claim
    progress = Progress(model=model, pk=job.pk, attempt=attempt, start=0, end=end)
    try:
        with lease_kept(progress), work_dir(scratch) as folder:
            return work(job, attempt, progress, Path(folder))
    except JobCancelled:
        return "cancelled"
    except JobSuperseded:
        return "superseded"
    except Exception as error:
        logger.exception("%s %s: attempt %s failed", model.__name__, job.pk, attempt)
        return failed(job, attempt, error)
