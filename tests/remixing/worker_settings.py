"""Settings for the Celery worker that the worker tests start.

Test settings plus what only a test needs to tune from the environment: a
short Redis visibility timeout (so a killed worker's task is redelivered in
seconds, not hours), a private media folder, and a private filesystem broker
folder when no Redis is configured.
"""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import CELERY_BROKER_TRANSPORT_OPTIONS as _BROKER_OPTIONS
from config.settings.test import (
    CELERY_BROKER_URL,
    MEDIA_ROOT,
    SEPARATION_BACKEND,
    XDIST_WORKER,
)

MEDIA_ROOT = os.environ.get("CLEARMIX_TEST_MEDIA_ROOT", MEDIA_ROOT)
# A test that separates as an install without weights does (the demo's case).
SEPARATION_BACKEND = os.environ.get("CLEARMIX_TEST_SEPARATION_BACKEND", SEPARATION_BACKEND)

if CELERY_BROKER_URL.startswith("filesystem://"):
    _folder = os.environ.get("CLEARMIX_TEST_BROKER_DIR", "")
    if _folder:
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            "data_folder_in": os.path.join(_folder, "queue"),
            "data_folder_out": os.path.join(_folder, "queue"),
            "processed_folder": os.path.join(_folder, "processed"),
            "store_processed": False,
        }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **_BROKER_OPTIONS,  # the socket timeouts a worker runs with
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60)),
        # kombu sweeps for expired unacked messages every interval x throttle
        # seconds (100 s by default); a test with a 5 s timeout needs ~1 s.
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
        # A worker SIGKILLed while it held the restore lock (taken every second above)
        # would keep every other worker from restoring its message for kombu's default
        # 300 s: the crash tests' second worker then waits past their timeouts.
        "unacked_mutex_expire": 5,
    }
    if XDIST_WORKER:
        # The test process's keys (see config.settings.test).
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"{XDIST_WORKER}:"
