"""Test settings: same parts as production where it matters (PostgreSQL and
Redis when DATABASE_URL / REDIS_URL are set, as in CI), fast hashing."""

import os

from .base import *  # noqa: F403
from .base import (
    CACHES,
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CELERY_BROKER_URL,
    DATABASES,
    RATE_LIMITS,
    STORAGES,
    VAR_DIR,
)

# pytest-xdist runs the suite in several processes ("gw0", "gw1", ...). Each
# gets its own test database (pytest-django suffixes the name) and, from here,
# its own media folder, filesystem broker folder, Redis broker keys and cache
# keys, so parallel workers never read each other's files or tasks. The
# Celery worker processes that worker tests start inherit the variable and so
# land on the same names.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_PER_WORKER = f"-{XDIST_WORKER}" if XDIST_WORKER else ""

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = str(VAR_DIR / f"test-media{_PER_WORKER}")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Its own folder: a test run must never feed a running demo worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        key: str(VAR_DIR / f"test-celery-broker{_PER_WORKER}" / name)
        for key, name in (
            ("data_folder_in", "queue"),
            ("data_folder_out", "queue"),
            ("processed_folder", "processed"),
            ("control_folder", "control"),
        )
    }
elif XDIST_WORKER:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": f"{XDIST_WORKER}:",
    }
if XDIST_WORKER:
    CACHES = {name: {**cache, "KEY_PREFIX": XDIST_WORKER} for name, cache in CACHES.items()}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
# allauth's and our limits are exercised by tests/marketplace/test_rate_limits.py
# with small windows; the rest of the suite signs up and calls the API in
# loops as one person (fuzzers), so the defaults are lifted here.
ACCOUNT_RATE_LIMITS = False
CACHES = {**CACHES, "rate_limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RATE_LIMITS = {name: {**spec, "rate": "100000/minute"} for name, spec in RATE_LIMITS.items()}
DEMUCS_MODEL = "demucs_unittest"
# PyTorch unless a test asks for ONNX Runtime (an export costs seconds per worker process).
SEPARATION_RUNTIME = "torch"
SEPARATION_ONNX_CACHE = str(VAR_DIR / f"test-onnx{_PER_WORKER}")
CATALOG_LIST_CACHE_SECONDS = 0
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a flush that empties only the tables a
    # transactional test filled (tests/postgresql_flush/base.py): a TRUNCATE of
    # every table cost 1.3-2 s after each of those tests.
    DATABASES["default"]["ENGINE"] = "tests.postgresql_flush"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: the live server's threads (web requests and the
    # Stripe sandbox's webhooks arriving at once) then get their own
    # connections instead of sharing one, which SQLite cannot do safely.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-clearmix.sqlite3")}

# The install script warms numba's cache before any test runs (remixing/engine/warmup.py);
# the suite starts dozens of short-lived workers, each of which would otherwise pay for it.
REMIXING_NUMBA_WARMUP = False
