"""Test settings: same parts as production where it matters (PostgreSQL and
Redis when DATABASE_URL / REDIS_URL are set, as in CI), fast hashing."""

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, DATABASES, STORAGES, VAR_DIR

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = str(VAR_DIR / "test-media")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Its own folder: a test run must never feed a running demo worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        key: str(VAR_DIR / "test-celery-broker" / name)
        for key, name in (
            ("data_folder_in", "queue"),
            ("data_folder_out", "queue"),
            ("processed_folder", "processed"),
            ("control_folder", "control"),
        )
    }
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
ACCOUNT_RATE_LIMITS = False
DEMUCS_MODEL = "demucs_unittest"
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: the live server's threads (web requests and the
    # Stripe sandbox's webhooks arriving at once) then get their own
    # connections instead of sharing one, which SQLite cannot do safely.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-clearmix.sqlite3")}
