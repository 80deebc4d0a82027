"""A worker started ahead of its test waits here until the test opens the gate.

The browser tests' `pipeline` fixture (tests/remixing/pages/conftest.py) starts the
next test's worker while a test runs, with CLEARMIX_TEST_WORKER_GATE set: it
imports Django, the tasks and their libraries (2-7 s of a test's wait), then blocks
in `worker_init`, before it has connected to the broker or the database. The test
writes a line on the worker's stdin once it has emptied its Redis keys and made its
media folder, as it used to before starting a worker. End of stdin (the test process
gone, or the spare discarded) ends the worker.
"""

from __future__ import annotations

import os
import sys

from celery.signals import worker_init


@worker_init.connect(weak=False)
def wait_for_the_test(**kwargs) -> None:
    if not sys.stdin.readline():
        os._exit(0)
