"""Browser-test helpers: a real Celery worker on the test database (when Redis
is configured; tests/fixtures/celery_workers.py), or the same tasks run in this
process otherwise."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.fixtures.celery_workers import CeleryWorkers, worker_args
from tests.fixtures.db_quiet import database_wait_quiet
from tests.fixtures.redis_db import redis_flush_own

ROOT = Path(__file__).resolve().parents[3]


class Pipeline:
    """Runs background work: a worker process, or `drain()` in-process."""

    def __init__(self, env: dict | None, starter: CeleryWorkers, log: Path):
        self.env, self.starter, self.proc, self.log = env, starter, None, log

    @property
    def real(self) -> bool:
        return self.proc is not None

    def start(self, media_root: Path) -> Pipeline:
        """Start the worker on this test's media folder, once the fixture has emptied
        the broker's keys: it connects to Redis and the database only now."""
        if self.env is None:
            return self
        media_root.mkdir(parents=True, exist_ok=True)
        env = {**self.env, "CLEARMIX_TEST_MEDIA_ROOT": str(media_root)}
        args = worker_args(pool="solo", name="pages")
        self.proc = self.starter.start(args, env=env, log=self.log)
        return self

    def stop(self) -> None:
        """End the worker at once (SIGKILL to its process group). No test here checks
        a graceful shutdown, and SIGTERM's warm shutdown waited for whatever task was
        still running, work the test had already stopped looking at (a structure
        analysis after a preview: up to 5 s a test). Its unacked message stays in
        Redis, and the next test's fixture drops this process's keys before its
        worker starts; the database closes its connection and rolls it back."""
        if self.proc and self.proc.running():
            self.proc.signal_group(signal.SIGKILL)
            self.proc.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def drain(self) -> None:
        """Without a worker: run what a worker would (stems, paid orders, renders)."""
        if self.real:
            return
        from catalog.models import Recording
        from marketplace.billing.fulfilment import order_fulfil
        from marketplace.models import Order
        from remixing import tasks
        from remixing.models import OFFICIAL_MODEL, RecordingPreview, Remix, StemSet

        # What becoming remixable queued (stems made before any fan arrives).
        unprepared = Recording.objects.filter(is_remixable=True, stem_sets__isnull=True)
        if ids := list(unprepared.values_list("pk", flat=True)):
            tasks.stems_prepare(ids)
        for stem_set in StemSet.objects.filter(status__in=["pending"]):
            if stem_set.model_name == OFFICIAL_MODEL:
                tasks.stems_import_official(stem_set.pk)
            else:
                tasks.separation_run(stem_set.pk)
        for preview in RecordingPreview.objects.filter(status="pending"):
            tasks.recording_preview_run(preview.recording_id)
        for order in Order.objects.filter(status="paid", remix__status="draft"):
            order_fulfil(order_id=order.pk)
        for remix in Remix.objects.filter(status="queued"):
            tasks.render_run(remix.pk)


@pytest.fixture
def pipeline(transactional_db, settings, tmp_path, celery_workers):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    redis_url = os.environ.get("REDIS_URL", "")
    env = None
    if connection.vendor == "postgresql" and redis_url:
        redis_flush_own(redis_url)
        parts = urlsplit(os.environ["DATABASE_URL"])
        db_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.remixing.worker_settings",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "DEMUCS_DEVICE": "cpu",
            "PYTHONPATH": str(ROOT),
            "OMP_NUM_THREADS": "2",
        }
    worker = Pipeline(env, celery_workers, tmp_path / "worker.log")
    worker.start(Path(settings.MEDIA_ROOT))
    yield worker
    worker.stop()
    database_wait_quiet()  # before the flush (tests/fixtures/db_quiet.py)


def wait_for(predicate, timeout: float, pipeline: Pipeline | None = None, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pipeline is not None:
            pipeline.drain()
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s\n{pipeline.output() if pipeline else ''}")
