"""Fault tests share the remixing crash tests' real Celery workers: the
`crash_env` and `workers` fixtures (names that tests/conftest.py puts in the
`celery-worker` xdist group), and their recordings with real audio."""

from tests.remixing.conftest import make_recording  # noqa: F401
from tests.remixing.test_worker_crash import crash_env, workers  # noqa: F401
