"""run_demo's supervisor, with real subprocesses: a crashed child is restarted
with backoff and announced; the others keep running."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from marketplace.demo.supervisor import Supervisor

LONG = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASH = [sys.executable, "-c", "import sys; sys.exit(3)"]


@pytest.fixture
def supervisor():
    lines: list[str] = []
    sup = Supervisor(say=lines.append, backoff_s=0.2, backoff_max_s=0.8, stable_after_s=60)
    sup.lines = lines
    yield sup
    sup.stop(timeout_s=5)


def run_for(sup: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sup.poll()
        time.sleep(0.05)


def test_a_crashing_child_is_restarted_with_backoff_and_others_keep_running(supervisor):
    web = supervisor.start("web", LONG)
    worker = supervisor.start("celery worker", CRASH)
    web_pid = web.proc.pid
    run_for(supervisor, 2.5)
    # 0.2 + 0.4 + 0.8 + 0.8 s of backoff: a handful of restarts, not hundreds.
    assert 3 <= worker.restarts <= 5, supervisor.lines
    assert set(worker.history) == {3}
    said = [line for line in supervisor.lines if line.startswith("celery worker exited with 3")]
    assert "restarting it in 0.2 s (restart #1)" in said[0]
    assert "restarting it in 0.4 s (restart #2)" in said[1]
    assert "in 0.8 s" in said[-1]  # capped
    assert web.proc.pid == web_pid and web.proc.poll() is None  # never stopped


def test_a_killed_child_comes_back_and_stop_ends_all(supervisor):
    worker = supervisor.start("celery worker", LONG)
    beat = supervisor.start("celery beat", LONG)
    first_pid = worker.proc.pid
    os.kill(first_pid, signal.SIGKILL)  # the worker's main process dies
    run_for(supervisor, 1.0)
    assert worker.proc.pid != first_pid and worker.proc.poll() is None
    assert worker.history == [-signal.SIGKILL]
    assert any("celery worker exited with -9; restarting" in line for line in supervisor.lines)
    assert beat.proc.poll() is None
    supervisor.stop(timeout_s=5)
    assert worker.proc.poll() is not None and beat.proc.poll() is not None


def test_a_child_with_a_log_file_writes_there_and_its_crash_names_it(supervisor, tmp_path, capfd):
    log = tmp_path / "log" / "worker.log"
    noisy = [
        sys.executable,
        "-c",
        "import sys; print('banner'); sys.stderr.write('warn\\n'); sys.exit(2)",
    ]
    supervisor.start("celery worker", noisy, log_path=log)
    run_for(supervisor, 0.6)
    assert "banner" in log.read_text() and "warn" in log.read_text()
    assert "banner" not in capfd.readouterr().out  # not on the console
    assert log.read_text().count("banner") >= 2  # appended across restarts
    assert any(f"Its log: {log}." in line for line in supervisor.lines)
