"""Crashes with a real Celery worker: SIGKILL of a pool process, of the
worker's main process (mid-render and mid-separation), a lost broker (Redis
FLUSHDB, or the filesystem queue wiped) and a broker cut away mid-render by
the TCP fault proxy. Each ends with exactly one delivered render or stem set.

Runs on PostgreSQL + Redis (CI) and on SQLite + the filesystem broker
(local): the worker reads the same test database file and queue folder.
The worker runs beat too (`-B`), so the jobs sweep runs as in production.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection

from remixing.models import Remix, StemSet
from remixing.services import remix_create, remix_render_start, remix_update_recipe
from tests.fixtures.celery_workers import CeleryWorkers, ForkedWorker, worker_args
from tests.fixtures.db_quiet import database_wait_quiet
from tests.fixtures.redis_db import redis_flush_own

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 60  # long: these tests must finish by takeover, not by waiting it out
SLOW_RECIPE = {
    "version": 1,
    "tempo_ratio": 0.7,
    "key_shift": -3,
    "effects": {"reverb": {"room_size": 0.8, "wet": 0.4}},
}


def _broker_reset() -> None:
    """Drop queued messages of earlier runs: our Redis db, or our queue folder."""
    url = django_settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        for key in ("data_folder_in", "processed_folder"):
            folder = Path(django_settings.CELERY_BROKER_TRANSPORT_OPTIONS[key])
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
    else:
        redis_flush_own(url)


def _database_url() -> str:
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture
def crash_env(transactional_db, settings, tmp_path):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        (":memory:", "file:memorydb")
    ):
        pytest.skip("a worker process cannot share an in-memory SQLite database")
    _broker_reset()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.remixing.worker_settings",
        "DATABASE_URL": _database_url(),
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "REMIXING_JOB_LEASE_SECONDS": str(LEASE_S),
        "REMIXING_JOB_STALE_SECONDS": str(LEASE_S),
        "REMIXING_JOB_SWEEP_SECONDS": "2",
        "REMIXING_JOB_REQUEUE_SECONDS": "4",
        "CLEARMIX_TEST_MEDIA_ROOT": settings.MEDIA_ROOT,
        "DEMUCS_DEVICE": "cpu",
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
    }


class Worker:
    def __init__(self, starter: CeleryWorkers, env: dict, folder: Path, index: int):
        self.starter, self.env, self.log = starter, env, folder / f"worker{index}.log"
        self.schedule = folder / f"beat{index}"
        self.proc: ForkedWorker | None = None

    def start(self) -> Worker:
        beat = ("-B", "-s", str(self.schedule))
        args = worker_args(pool="prefork", name="crash", extra=beat)
        self.proc = self.starter.start(args, env=self.env, log=self.log)  # its own group
        return self

    def kill_all(self) -> None:
        if self.proc and self.proc.running():
            self.proc.signal_group(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.running():
            self.proc.signal_group(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except TimeoutError:
                self.kill_all()
        elif self.proc:
            # The main process is gone; its orphans may still be in the group.
            self.proc.signal_group(signal.SIGKILL)

    def end(self) -> None:
        """SIGKILL the process group, whether or not its main process still lives."""
        if self.proc:
            self.proc.signal_group(signal.SIGKILL)
            self.proc.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@pytest.fixture
def workers(crash_env, tmp_path, celery_workers):
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(celery_workers, crash_env, tmp_path, len(started)).start()
        started.append(worker)
        return worker

    yield start
    # After the test, SIGKILL to each whole process group (orphans included): SIGTERM's
    # warm shutdown waited for the task still running, and no test checks how a worker
    # ends after its last assertion. The next test's fixture empties the broker.
    for worker in started:
        worker.end()
    database_wait_quiet()  # before the flush (tests/fixtures/db_quiet.py)


def wait_for(predicate, timeout: float, worker: Worker | None = None, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s\n{worker.output() if worker else ''}")


def row(remix: Remix) -> dict:
    return Remix.objects.values("status", "attempts", "lease_owner", "progress").get(pk=remix.pk)


def slow_paid_remix(make_recording, fan, worker: Worker) -> Remix:
    recording, _ = make_recording(seconds=6.0, official_stems=True)
    remix = remix_create(fan=fan, recording=recording)
    wait_for(
        lambda: StemSet.objects.filter(pk=remix.stem_set_id, status="ready").exists(), 90, worker
    )
    remix_update_recipe(remix=remix, fan=fan, recipe=SLOW_RECIPE)
    remix_render_start(remix=remix)
    wait_for(lambda: row(remix)["status"] == "rendering", 60, worker, step=0.01)
    return remix


def assert_delivered_once(remix: Remix, worker: Worker) -> None:
    wait_for(lambda: row(remix)["status"] in ("ready", "failed"), 120, worker)
    remix.refresh_from_db()
    assert remix.status == "ready", (remix.error, remix.error_detail, worker.output())
    assert remix.events.filter(to_status="ready").count() == 1
    out_dir = Path(remix.output_mp3.path).parent
    assert sorted(p.name for p in out_dir.iterdir()) == [
        f"remix-{remix.pk}.mp3",
        f"remix-{remix.pk}.ogg",
    ]  # no duplicates, no stray temporaries


def test_sigkill_of_a_pool_process_mid_render(make_recording, fan, workers):
    worker = workers()
    remix = slow_paid_remix(make_recording, fan, worker)
    owner = row(remix)["lease_owner"]
    pool_pid = int(owner.rpartition(":")[2])
    assert pool_pid != worker.proc.pid  # the lease names the pool process
    killed_at = time.monotonic()
    os.kill(pool_pid, signal.SIGKILL)
    assert_delivered_once(remix, worker)
    # Taken over at once (the holder is dead), not after its lease ran out.
    assert time.monotonic() - killed_at < LEASE_S
    assert remix.attempts == 2
    detail = remix.events.get(to_status="queued", attempt=1).data["detail"]
    assert owner in detail and "interrupted" in detail
    assert worker.proc.running()  # the worker itself lives on


def test_sigkill_of_the_worker_main_process_mid_render(make_recording, fan, workers):
    first = workers()
    remix = slow_paid_remix(make_recording, fan, first)
    os.kill(first.proc.pid, signal.SIGKILL)  # the main process only
    first.proc.wait(10)
    # Its pool process is orphaned; on a real host the service manager ends
    # it with the main process. Do that too, then start a fresh worker.
    first.stop()
    second = workers()
    assert_delivered_once(remix, second)
    assert remix.attempts == 2


def test_lost_broker_messages_are_queued_again(make_recording, fan, workers):
    recording, _ = make_recording(seconds=3.0, official_stems=True)
    remix = remix_create(fan=fan, recording=recording)
    remix_render_start(remix=remix)
    _broker_reset()  # Redis restarted empty (FLUSHDB), or the queue folder lost
    worker = workers()
    assert_delivered_once(remix, worker)
    assert remix.attempts == 1


def separating_stem_set(make_recording, fan, worker: Worker) -> StemSet:
    """A remix whose stems are being made (Demucs demucs_unittest on CPU)
    right now; long audio so the separation is still running when we look."""
    recording, _ = make_recording(seconds=8.0)
    remix = remix_create(fan=fan, recording=recording)
    stem_set = StemSet.objects.get(pk=remix.stem_set_id)
    wait_for(
        lambda: StemSet.objects.filter(pk=stem_set.pk, status="running").exists(),
        90,
        worker,
        step=0.01,
    )
    stem_set.refresh_from_db()
    return stem_set


def assert_stems_made_once(stem_set: StemSet, worker: Worker) -> StemSet:
    wait_for(
        lambda: StemSet.objects.filter(pk=stem_set.pk, status__in=("ready", "failed")).exists(),
        120,
        worker,
    )
    stem_set.refresh_from_db()
    assert stem_set.status == "ready", (stem_set.error, stem_set.error_detail, worker.output())
    names = sorted(stem_set.stems.values_list("name", flat=True))
    assert names == sorted(set(names)) and len(names) == 4  # one of each, none twice
    return stem_set


def test_sigkill_of_a_pool_process_mid_separation(make_recording, fan, workers):
    worker = workers()
    stem_set = separating_stem_set(make_recording, fan, worker)
    pool_pid = int(stem_set.lease_owner.rpartition(":")[2])
    assert pool_pid != worker.proc.pid
    os.kill(pool_pid, signal.SIGKILL)
    stem_set = assert_stems_made_once(stem_set, worker)
    assert stem_set.attempts == 2
    assert worker.proc.running()


def test_sigkill_of_the_worker_main_process_mid_separation(make_recording, fan, workers):
    first = workers()
    stem_set = separating_stem_set(make_recording, fan, first)
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(10)
    first.stop()  # its orphaned pool process goes with it, as under a service manager
    second = workers()
    assert assert_stems_made_once(stem_set, second).attempts == 2


def test_broker_cut_by_the_fault_proxy_mid_render_then_back(
    make_recording, fan, workers, crash_env, fault_proxy
):
    redis_url = django_settings.CELERY_BROKER_URL
    if not redis_url.startswith("redis://"):
        pytest.skip("a broker connection to cut needs Redis (set REDIS_URL)")
    parts = urlsplit(redis_url)
    proxy = fault_proxy(parts.hostname, parts.port or 6379)
    through_proxy = urlunsplit(parts._replace(netloc=f"{proxy.host}:{proxy.port}"))
    # The worker reaches Redis (broker and cache) only through the proxy.
    crash_env.update(REDIS_URL=through_proxy, CELERY_BROKER_URL=through_proxy)
    worker = workers()
    remix = slow_paid_remix(make_recording, fan, worker)
    proxy.drop()  # Redis gone: connections reset, reconnects refused
    # Gone until the worker has noticed (rather than a fixed 3 s): it must
    # then reconnect, not die.
    wait_for(
        lambda: "Connection to broker lost" in worker.log.read_text(errors="replace"), 30, worker
    )
    proxy.pass_()  # Redis back
    assert_delivered_once(remix, worker)
    assert worker.proc.running()  # the worker reconnected rather than died
    assert "Connection to broker lost" in worker.log.read_text(errors="replace")
