"""Queueing royalties' tasks by name works in any process, not only in a worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from royalties import enqueue

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name",
    [
        enqueue.TRANSFER_LINE,
        enqueue.REVERSAL_EXECUTE,
        enqueue.PAYOUTS_SWEEP,
        enqueue.SETTLEMENTS_POST,
    ],
)
def test_each_task_is_found_by_name_in_a_fresh_process(name):
    # Probe: a process that had not loaded the URLs (a shell, a command, a test
    # settling a sale before any request) failed with NotRegistered, because
    # Celery imports the tasks modules only when a worker starts.
    script = (
        "import django; django.setup()\n"
        "from royalties.enqueue import task_registered\n"
        f"print(task_registered({name!r}).name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == name
