"""Celery tasks of remixing. Thin: the work is in `remixing.job_runner`.

Routing (settings.CELERY_TASK_ROUTES): `remixing.tasks.separation_*` goes to
the `gpu` queue, everything else here to `default`.

All tasks are idempotent (claim by compare-and-set, deterministic names,
atomic moves), so acks_late + reject_on_worker_lost redelivery is safe.
A failed attempt is re-queued with backoff by `remixing.job_runner` itself, up to
the job's attempt limit; a task that meets a live lease held by another
worker checks again when it expires; the beat sweep (`jobs_sweep`)
re-queues jobs whose lease expired or whose message was lost.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.signals import worker_init, worker_process_init, worker_process_shutdown
from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)

from remixing import audio, enqueue, job_runner, previews, sweep
from remixing.engine.warmup import numba_cache_warm
from remixing.models import Remix, StemSet
from remixing.services.job_records import remix_fail_by_id, stemset_fail_by_id
from remixing.services.stems import stemsets_prepare

logger = logging.getLogger(__name__)

# Only database trouble is retried by Celery: then our own bookkeeping cannot
# be written either. Every other failure is an attempt that `remixing.job_runner`
# records and re-queues with backoff, up to the job's attempt limit.
TRANSIENT = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 3,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


class StemSetTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # A bug outside the attempt's handling: the set must not stay "running".
        # Database trouble past its retries is left to the sweep.
        if isinstance(exc, TRANSIENT):
            return
        _fresh_connection()
        stemset_fail_by_id(args[0], f"Task error: {exc.__class__.__name__}: {exc}")


class RenderTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, TRANSIENT):
            return
        _fresh_connection()
        remix_fail_by_id(
            args[0],
            job_runner.REMIX_FAILED,
            detail=f"Task error: {exc.__class__.__name__}: {exc}",
        )


def _fresh_connection() -> None:
    # Drop connections the database closed between tasks. Skipped inside an
    # atomic block: that is an eager call from a test or a service, whose
    # transaction must survive.
    if not connection.in_atomic_block:
        close_old_connections()


@worker_init.connect
def _worker_init(**kwargs) -> None:
    # In the main process, before the pool forks: one process compiles numba's
    # kernels, the pool processes only load them (see remixing/engine/warmup.py).
    if settings.REMIXING_NUMBA_WARMUP:
        numba_cache_warm()


@worker_process_init.connect
def _worker_process_init(**kwargs) -> None:
    # Safe after fork: drop database connections inherited from the parent
    # (sharing a socket between processes corrupts both). The model is NOT
    # loaded here: it loads on the first separation task in each child.
    for conn in connections.all(initialized_only=True):
        conn.close()


@worker_process_shutdown.connect
def _worker_process_shutdown(**kwargs) -> None:
    audio.release()


def _check_again_later(task, job_id: int, model) -> None:
    """A live lease held by someone else: check again once it expires, so
    the work is never dropped (the sweep is the second net). Not in eager
    mode, where "later" would be now, forever."""
    if task.request.is_eager:
        return
    task.apply_async(args=(job_id,), countdown=job_runner.job_wait_seconds(model=model, pk=job_id))


def _stems(task, stem_set_id: int) -> str:
    _fresh_connection()
    outcome = job_runner.stemset_execute(stem_set_id)
    if outcome == "busy":
        _check_again_later(task, stem_set_id, StemSet)
    logger.info("stem set %s: %s", stem_set_id, outcome)
    return outcome


@shared_task(name=enqueue.SEPARATION, base=StemSetTask, bind=True, **RETRY)
def separation_run(self, stem_set_id: int) -> str:
    """Separate one recording's audio with Demucs (gpu queue)."""
    return _stems(self, stem_set_id)


@shared_task(name=enqueue.OFFICIAL_IMPORT, base=StemSetTask, bind=True, **RETRY)
def stems_import_official(self, stem_set_id: int) -> str:
    """Turn official stems into a stem set (lossless + preview); no GPU needed."""
    return _stems(self, stem_set_id)


@shared_task(name=enqueue.STEMS_PREPARE, **RETRY)
def stems_prepare(recording_ids: list[int]) -> dict:
    """Queue the stems of recordings that may have just become remixable (default
    queue; the separation itself goes to the gpu queue)."""
    _fresh_connection()
    counts = stemsets_prepare(recording_ids=recording_ids)
    logger.info("stems prepared for %s: %s", recording_ids, counts)
    return counts


@shared_task(name=enqueue.RENDER, base=RenderTask, bind=True, **RETRY)
def render_run(self, remix_id: int) -> str:
    """Render one paid remix (default queue)."""
    _fresh_connection()
    outcome = job_runner.render_execute(remix_id)
    if outcome == "busy":
        _check_again_later(self, remix_id, Remix)
    logger.info("remix %s: %s", remix_id, outcome)
    return outcome


@shared_task(name=enqueue.STRUCTURE, **RETRY)
def structure_analyse(stem_set_id: int) -> str:
    """Beats, bars and sections of a ready stem set, once (default queue)."""
    return job_runner.stemset_structure_run(stem_set_id)


@shared_task(name="remixing.tasks.jobs_sweep")
def jobs_sweep() -> dict:
    """Beat: re-queue jobs whose lease expired or whose message was lost."""
    _fresh_connection()
    return sweep.jobs_sweep()


class RecordingPreviewTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        _fresh_connection()
        previews.recording_preview_fail(
            recording_id=args[0], error=f"Preview failed: {exc.__class__.__name__}: {exc}"
        )


@shared_task(name=enqueue.RECORDING_PREVIEW, base=RecordingPreviewTask, **RETRY)
def recording_preview_run(recording_id: int) -> str:
    """Encode a recording's lossy previews once (default queue)."""
    _fresh_connection()
    outcome = previews.recording_preview_make(recording_id=recording_id)
    logger.info("preview of recording %s: %s", recording_id, outcome)
    return outcome


@shared_task(name="remixing.tasks.stem_light_streams_run", **RETRY)
def stem_light_streams_run(stem_set_id: int) -> dict:
    """Opus/MP3 previews and peaks for a stem set made before they existed (default queue)."""
    _fresh_connection()
    counts = previews.stemset_light_streams_make(stem_set_id=stem_set_id)
    logger.info("light streams of stem set %s: %s", stem_set_id, counts)
    return counts
