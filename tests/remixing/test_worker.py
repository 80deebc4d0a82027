"""Real Celery worker processes against the test database.

Needs PostgreSQL (the worker must see committed test data) and Redis
(redelivery after a killed worker); without them these tests skip.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from catalog.services.consent import consent_revoke
from remixing.models import Remix, StemSet
from remixing.services import remix_create, remix_render_start
from tests.fixtures.celery_workers import CeleryWorkers, worker_args
from tests.fixtures.db_quiet import database_wait_quiet
from tests.fixtures.redis_db import redis_flush_own

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT_S = 5


@pytest.fixture
def worker_env(transactional_db, settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("worker tests need PostgreSQL (the worker reads the test database)")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.skip("worker tests need REDIS_URL (redelivery relies on Redis)")
    # Our own Redis keys: drop queued messages of earlier runs.
    redis_flush_own(redis_url)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    parts = urlsplit(os.environ["DATABASE_URL"])
    db_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.remixing.worker_settings",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
        # Shorter than the visibility timeout: a redelivered task may take over.
        "REMIXING_JOB_STALE_SECONDS": "2",
        "CLEARMIX_TEST_MEDIA_ROOT": settings.MEDIA_ROOT,
        "DEMUCS_DEVICE": "cpu",
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "2",
    }
    return env


class Worker:
    def __init__(self, starter: CeleryWorkers, env: dict, log: Path):
        self.starter, self.env, self.log, self.proc = starter, env, log, None

    def start(self) -> Worker:
        args = worker_args(pool="prefork", name="test")
        # Its own process group, to kill parent and child.
        self.proc = self.starter.start(args, env=self.env, log=self.log)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.running():
            self.proc.signal_group(signal.SIGKILL)
            self.proc.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def workers(worker_env, tmp_path, celery_workers):
    started: list[Worker] = []

    def start() -> Worker:
        log = tmp_path / f"worker{len(started)}.log"
        worker = Worker(celery_workers, worker_env, log).start()
        started.append(worker)
        return worker

    yield start
    # After the test: SIGKILL, not SIGTERM, whose warm shutdown waited for the task
    # still running (1.6-5 s a test); no test here checks a graceful shutdown. The
    # next test's fixture drops the unacked messages left in Redis.
    for worker in started:
        worker.kill()
    database_wait_quiet()  # before the flush (tests/fixtures/db_quiet.py)


def wait_for(predicate, timeout: float, worker: Worker | None = None, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    detail = worker.output() if worker else ""
    raise AssertionError(f"timed out after {timeout}s\n{detail}")


def status_of(remix: Remix) -> str:
    return Remix.objects.values_list("status", flat=True).get(pk=remix.pk)


def test_remix_renders_end_to_end_through_the_worker(make_recording, fan, workers):
    """Separation on the gpu queue (real Demucs), then render on default."""
    recording, _ = make_recording(seconds=3.0)
    remix = remix_create(fan=fan, recording=recording, preset="chill")
    remix_render_start(remix=remix)
    worker = workers()
    wait_for(lambda: status_of(remix) in ("ready", "failed"), 90, worker)
    remix.refresh_from_db()
    assert remix.status == "ready", (remix.error, worker.output())
    assert Path(remix.output_mp3.path).is_file() and Path(remix.output_ogg.path).is_file()
    stem_set = StemSet.objects.get()
    assert stem_set.status == "ready" and stem_set.model_name == "demucs_unittest"
    assert "separation_run" in worker.output() and "render_run" in worker.output()


def test_killed_worker_job_completes_exactly_once(make_recording, fan, workers):
    recording, _ = make_recording(seconds=5.0, official_stems=True)
    remix = remix_create(fan=fan, recording=recording)
    first = workers()
    # Official stems are imported by the worker; then we render something slow enough to kill.
    wait_for(
        lambda: StemSet.objects.filter(pk=remix.stem_set_id, status="ready").exists(), 60, first
    )
    from remixing.services import remix_update_recipe

    remix_update_recipe(
        remix=remix,
        fan=fan,
        recipe={
            "version": 1,
            "tempo_ratio": 0.7,
            "key_shift": -3,
            "effects": {"reverb": {"room_size": 0.8, "wet": 0.4}},
        },
    )
    remix_render_start(remix=remix)
    wait_for(lambda: status_of(remix) == "rendering", 30, first, step=0.01)
    first.kill()  # SIGKILL, mid-render: the message was never acked
    remix.refresh_from_db()
    assert remix.status == "rendering" and remix.attempts == 1 and not remix.output_mp3
    second = workers()
    wait_for(lambda: status_of(remix) in ("ready", "failed"), 90, second)
    remix.refresh_from_db()
    assert remix.status == "ready", (remix.error, second.output())
    assert remix.attempts == 2
    assert remix.events.filter(to_status="ready").count() == 1
    out_dir = Path(remix.output_mp3.path).parent
    assert sorted(p.name for p in out_dir.iterdir()) == [
        f"remix-{remix.pk}.mp3",
        f"remix-{remix.pk}.ogg",
    ]  # no duplicates, no stray temporaries


def test_revocation_while_queued_ends_cancelled(make_recording, fan, workers):
    recording, artist = make_recording(official_stems=True)
    other, _ = make_recording(official_stems=True)
    doomed = remix_create(fan=fan, recording=recording)
    fine = remix_create(fan=fan, recording=other)
    remix_render_start(remix=doomed)  # queued; no worker is running yet
    consent_revoke(party=recording.artist_party, actor=artist, reason="no more")
    assert status_of(doomed) == "cancelled"  # the signal receiver ran on commit
    remix_render_start(remix=fine)
    worker = workers()
    wait_for(lambda: status_of(fine) == "ready", 60, worker)
    doomed.refresh_from_db()
    assert doomed.status == "cancelled" and not doomed.output_mp3
    assert "withdrew consent" in doomed.error
    assert doomed.events.filter(to_status="rendering").count() == 0
