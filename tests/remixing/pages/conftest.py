"""Browser-test helpers: a real Celery worker on the test database (when Redis
is configured), or the same tasks run in this process otherwise."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.fixtures.db_quiet import database_wait_quiet
from tests.fixtures.redis_db import redis_flush_own

ROOT = Path(__file__).resolve().parents[3]


def worker_spawn(env: dict, folder: Path) -> subprocess.Popen:
    """A worker that imports everything, then waits for a line on its stdin
    (tests/remixing/worker_gate.py). Its media folder is `folder/media`, a link
    the test makes to its own media folder before it opens the gate."""
    folder.mkdir(parents=True)
    gated = {**env, "CLEARMIX_TEST_MEDIA_ROOT": str(folder / "media")}
    gated["CLEARMIX_TEST_WORKER_GATE"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "paid,default,gpu",
         "-c", "1", "-P", "solo", "-l", "info", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-n", f"pages-{folder.name}@%h"],
        cwd=ROOT, env=gated, stdin=subprocess.PIPE, stdout=open(folder / "worker.log", "ab"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


class SpareWorkers:
    """The next test's worker, started while this test runs: its start-up (2-7 s
    of imports, measured) no longer falls in a test. Used only by a test whose
    environment is the one it was started with; otherwise a fresh one starts."""

    def __init__(self, folder: Path):
        self.folder, self.spare = folder, None

    def prepare(self, env: dict) -> None:
        self.discard()
        folder = self.folder / uuid.uuid4().hex[:8]
        self.spare = (env, worker_spawn(env, folder), folder)

    def take(self, env: dict) -> tuple[subprocess.Popen, Path]:
        if self.spare is None or self.spare[0] != env or self.spare[1].poll() is not None:
            self.prepare(env)
        _, proc, folder = self.spare
        self.spare = None
        return proc, folder

    def discard(self) -> None:
        if self.spare is not None:
            proc = self.spare[1]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            proc.stdin.close()
            self.spare = None


class Pipeline:
    """Runs background work: a worker subprocess, or `drain()` in-process."""

    def __init__(self, env: dict | None, spares: SpareWorkers):
        self.env, self.spares, self.proc, self.log = env, spares, None, Path(os.devnull)

    @property
    def real(self) -> bool:
        return self.proc is not None

    def start(self, media_root: Path) -> Pipeline:
        """Take the worker started ahead for this test (or start one), point its
        media folder at this test's, and let it go: it connects to Redis and the
        database only now, after the fixture has emptied them, as a fresh one did."""
        if self.env is None:
            return self
        self.proc, folder = self.spares.take(self.env)
        media_root.mkdir(parents=True, exist_ok=True)
        (folder / "media").symlink_to(media_root, target_is_directory=True)
        self.log = folder / "worker.log"
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        # The next test's worker imports while this test runs; it waits, connected to
        # nothing, until that test opens its gate.
        self.spares.prepare(self.env)
        return self

    def stop(self) -> None:
        """End the worker at once (SIGKILL to its process group). No test here checks
        a graceful shutdown, and SIGTERM's warm shutdown waited for whatever task was
        still running, work the test had already stopped looking at (a structure
        analysis after a preview: up to 5 s a test). Its unacked message stays in
        Redis, and the next test's fixture drops this process's keys before its
        worker starts; the database closes its connection and rolls it back."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if self.proc:
            self.proc.stdin.close()

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
def pipeline(transactional_db, settings, tmp_path, spare_workers):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    redis_url = os.environ.get("REDIS_URL", "")
    env = None
    if connection.vendor == "postgresql" and redis_url:
        redis_flush_own(redis_url)
        parts = urlsplit(os.environ["DATABASE_URL"])
        db_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
        # The same for every test, so that the worker started ahead can be used: the
        # media folder comes by a link (Pipeline.start), and pytest's name of the test
        # phase is the test process's own.
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},
            "DJANGO_SETTINGS_MODULE": "tests.remixing.worker_settings",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "DEMUCS_DEVICE": "cpu",
            "PYTHONPATH": str(ROOT),
            "OMP_NUM_THREADS": "2",
        }
    worker = Pipeline(env, spare_workers).start(Path(settings.MEDIA_ROOT))
    yield worker
    worker.stop()
    database_wait_quiet()  # before the flush (tests/fixtures/db_quiet.py)


@pytest.fixture(scope="session")
def spare_workers(tmp_path_factory):
    spares = SpareWorkers(tmp_path_factory.mktemp("workers"))
    yield spares
    spares.discard()


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
