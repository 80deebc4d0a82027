"""Project-wide pytest configuration. Fixtures live in plugins by area."""

import pytest

# numba's cache for librosa's kernels is compiled once, by scripts/install.sh, before
# any test process starts (remixing/engine/warmup.py): processes compiling it at the
# same time corrupted it, and every later load crashed in librosa.util.localmax.

pytest_plugins = [
    "tests.fixtures.stripe",
    "tests.fixtures.accounts",
    "tests.fixtures.browser",
    "tests.fixtures.live_media",
    "tests.fixtures.rate_limits",
    "tests.fixtures.fault_proxy",
    "tests.fixtures.demo_audio",
    "tests.fixtures.xdist_groups",
    "tests.fixtures.databases",
    "tests.fixtures.celery_workers",
]

# Tests that start real Celery worker processes wait on them with timeouts;
# under pytest-xdist (`--dist loadgroup`, as scripts/test.sh runs it) they run
# one after another in one test process instead of two at once on two cores.
CELERY_WORKER_FIXTURES = frozenset({"workers", "worker_env", "crash_env", "pipeline"})


# First: pytest-xdist reads the groups in its own collection hook.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if CELERY_WORKER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("celery-worker"))
