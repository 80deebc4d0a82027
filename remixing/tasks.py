"""Celery tasks of remixing. Thin: the work is in `remixing.jobs`.

Routing (settings.CELERY_TASK_ROUTES): `remixing.tasks.separation_*` goes to
the `gpu` queue, everything else here to `default`.

All tasks are idempotent (claim by compare-and-set, deterministic names,
atomic moves), so acks_late + reject_on_worker_lost redelivery is safe.
Transient errors (file system, database connection) retry with backoff;
after the last retry `on_failure` marks the job failed with a message.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init, worker_process_shutdown
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)

from remixing import audio, jobs

logger = logging.getLogger(__name__)

TRANSIENT = (OSError, OperationalError, InterfaceError)
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
        # Retries exhausted, or an unexpected bug: the set must not stay "running".
        _fresh_connection()
        message = f"Stem separation failed: {exc.__class__.__name__}: {exc}"
        jobs._stemset_fail_by_id(args[0], None, "failed", message)


class RenderTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        _fresh_connection()
        jobs.remix_fail_by_id(args[0], f"Rendering failed: {exc.__class__.__name__}: {exc}")


def _fresh_connection() -> None:
    # Drop connections the database closed between tasks. Skipped inside an
    # atomic block: that is an eager call from a test or a service, whose
    # transaction must survive.
    if not connection.in_atomic_block:
        close_old_connections()


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


def _stems(stem_set_id: int) -> str:
    _fresh_connection()
    try:
        outcome = jobs.stemset_execute(stem_set_id)
    except SoftTimeLimitExceeded:
        audio.release()  # free GPU memory before anything else
        jobs._stemset_fail_by_id(
            stem_set_id, None, "failed", "Separation took too long and was stopped."
        )
        return "failed"
    logger.info("stem set %s: %s", stem_set_id, outcome)
    return outcome


@shared_task(name="remixing.tasks.separation_run", base=StemSetTask, **RETRY)
def separation_run(stem_set_id: int) -> str:
    """Separate one recording's audio with Demucs (gpu queue)."""
    return _stems(stem_set_id)


@shared_task(name="remixing.tasks.stems_import_official", base=StemSetTask, **RETRY)
def stems_import_official(stem_set_id: int) -> str:
    """Turn official stems into a stem set (lossless + preview); no GPU needed."""
    return _stems(stem_set_id)


@shared_task(name="remixing.tasks.render_run", base=RenderTask, **RETRY)
def render_run(remix_id: int) -> str:
    """Render one paid remix (default queue)."""
    _fresh_connection()
    try:
        outcome = jobs.render_execute(remix_id)
    except SoftTimeLimitExceeded:
        jobs.remix_fail_by_id(remix_id, "Rendering took too long and was stopped.")
        return "failed"
    logger.info("remix %s: %s", remix_id, outcome)
    return outcome
