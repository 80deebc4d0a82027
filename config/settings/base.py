"""Settings shared by every environment. Values come from the environment.

The embedded defaults run the whole product with no configuration: SQLite, a
local media folder, Celery on kombu's filesystem transport under var/, and the
local Stripe sandbox.
"""

from __future__ import annotations

from datetime import timedelta

from config.beat import beat_schedule
from core.queues import DEFAULT, GPU, PAID

from .env import (
    BASE_DIR,
    ConfigurationError,
    env_bool,
    env_db,
    env_int,
    env_list,
    env_str,
    postgres_timeouts,
    redis_socket_options,
)

VAR_DIR = BASE_DIR / "var"

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-dev-key-do-not-use-in-production")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "axes",
    "accounts",
    "marketplace",
    "catalog",
    "remixing",
    "royalties",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "marketplace.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and auth: a NUL in a path or query never reaches the database.
    "marketplace.middleware.BadInputMiddleware",
    # A database that is away: 503 and Retry-After, not a 500.
    "marketplace.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication: limits count per signed-in user (else per address).
    "marketplace.rate_limits.RateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Axes must come last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.site_shell",
                "marketplace.csp.csp_nonce",
            ],
        },
    },
]

DATABASES = {"default": env_db("DATABASE_URL", f"sqlite:///{VAR_DIR / 'clearmix.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite is for the one-command demo: wait on the web/worker write lock
    # instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins, so two writers queue on
    # the timeout instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # No request waits on an absent database or a runaway statement: a refused
    # or black-holed connection fails after the connect timeout, a statement
    # is cancelled by the server after the statement timeout (0: none).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        postgres_timeouts(
            connect_seconds=env_int("DATABASE_CONNECT_TIMEOUT", 5),
            statement_ms=env_int("DATABASE_STATEMENT_TIMEOUT_MS", 30_000),
        )
    )
# A statement whose reply has not come this long after it was sent (a server
# or a middlebox that took it and went silent, without a reset) has its
# connection shut down by the client (marketplace.db_deadline): the request
# answers 503, a task retries. PostgreSQL only; 0: no deadline. By default
# the statement timeout plus 5 s, so the server cancels a slow statement first.
_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 30_000)
DATABASE_REPLY_TIMEOUT_MS = env_int(
    "DATABASE_REPLY_TIMEOUT_MS", _STATEMENT_TIMEOUT_MS + 5_000 if _STATEMENT_TIMEOUT_MS else 0
)
# A page or API call answers 503 with this Retry-After while the database is away.
DATABASE_UNAVAILABLE_RETRY_AFTER = env_int("DATABASE_UNAVAILABLE_RETRY_AFTER", 30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"

# django-allauth: email is the login; addresses must be verified.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Sign-up also asks for the public handle (and an optional display name).
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

# django-axes: lock an account+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
AXES_LOCKOUT_TEMPLATE = "marketplace/locked_out.html"
AXES_RESET_ON_SUCCESS = True

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clearmix <no-reply@clearmix.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic's output (the Docker image builds it in; bench/studio.py into a scratch folder).
STATIC_ROOT = env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env_str("MEDIA_ROOT", str(VAR_DIR / "media"))
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
# Media is served by ownership (marketplace.media): on S3, by a redirect to a
# URL signed for this long, made after the rights check. Short, because a
# signed URL is a bearer token: whoever holds it reads the object.
MEDIA_SIGNED_URL_SECONDS = env_int("MEDIA_SIGNED_URL_SECONDS", 60)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.static_storage.StaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            # Private objects: no ACL header, so the bucket's private default
            # holds (and buckets with ACLs disabled accept the upload).
            "default_acl": None,
            "querystring_auth": True,
            # Any URL the storage makes is signed and short-lived, even one a
            # template renders by mistake; never an unsigned custom domain.
            "querystring_expire": MEDIA_SIGNED_URL_SECONDS,
            "signature_version": "s3v4",  # SigV2 links are deprecated and refused by new regions
            "custom_domain": None,
            "file_overwrite": False,
        },
    }
# Where browsers fetch media from besides this site (Content-Security-Policy
# media-src and connect-src): the S3 endpoint the media view redirects to.
_S3_REGION = env_str("AWS_S3_REGION_NAME", "")
_S3_DEFAULT_ORIGINS = (
    [env_str("AWS_S3_ENDPOINT_URL", "").rstrip("/")]
    if env_str("AWS_S3_ENDPOINT_URL", "")
    else [
        f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com",
        f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{_S3_REGION or 'us-east-1'}.amazonaws.com",
    ]
)
CSP_MEDIA_ORIGINS = env_list("CSP_MEDIA_ORIGINS") or (
    _S3_DEFAULT_ORIGINS if AWS_STORAGE_BUCKET_NAME else []
)
# Audio uploads are streamed to disk, never held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
# Browse, home and the catalog API cache each rendered list under the
# catalog's listing version (changed by every write that changes a verdict
# or a name), so this only bounds time-driven changes (scheduled splits).
# 0 turns the cache off (tests count the real work).
CATALOG_LIST_CACHE_SECONDS = env_int("CATALOG_LIST_CACHE_SECONDS", 60)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "marketplace.api_errors.exception_handler",
    # Bodies read at most DATA_UPLOAD_MAX_MEMORY_SIZE; JSON depth checked before parsing.
    "DEFAULT_PARSER_CLASSES": [
        "marketplace.api_parsers.BoundedJSONParser",
        "marketplace.api_parsers.BoundedFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"remix_play": env_str("REMIX_PLAY_RATE", "30/minute")},
}
# A listener's plays of one remix count once per window.
REMIX_PLAY_WINDOW_SECONDS = env_int("REMIX_PLAY_WINDOW_SECONDS", 30 * 60)
SPECTACULAR_SETTINGS = {
    "TITLE": "Clearmix API",
    "DESCRIPTION": "Licensed fan remixes: catalog, consent, remixes and payouts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents the refusals it can give (the one error shape).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "marketplace.api_schema.document_error_responses",
    ],
}

# Celery. Embedded default: kombu's filesystem transport, no server needed.
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or REDIS_URL or "filesystem://"
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis redelivers unacked tasks after this long; must exceed the hard limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60),
        # A worker takes from its queues in the order it names them (-Q paid,default):
        # a paying fan's fulfilment and render never wait behind a backlog of
        # background work (previews, stem imports, analyses of a new catalog).
        "queue_order_strategy": "priority",
        # A broker that is away fails a publish or a poll after these seconds
        # (then the worker reconnects) instead of hanging a request or a worker.
        **redis_socket_options(
            connect_seconds=env_int("REDIS_CONNECT_TIMEOUT", 3),
            # Above kombu's 1 s BRPOP poll, which must not count as a failure.
            read_seconds=env_int("REDIS_SOCKET_TIMEOUT", 5),
        ),
    }
# Queuing a task (from a request, after its commit) retries a broker that
# refuses or stays silent this many times: a request waits at most about
# (retries + 1) x 2 x REDIS_SOCKET_TIMEOUT (handshake and push per attempt),
# then answers 503 (the jobs sweeps queue the committed work again).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env_int("CELERY_PUBLISH_MAX_RETRIES", 1),
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True  # job state lives in our own models
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 30 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 35 * 60)
CELERY_TASK_DEFAULT_QUEUE = DEFAULT
CELERY_TASK_CREATE_MISSING_QUEUES = True
CELERY_TASK_ROUTES = {
    # What a fan who has paid waits for: its own queue, which workers take
    # from first (see queue_order_strategy above).
    "marketplace.tasks.order_fulfil": {"queue": PAID},
    "remixing.tasks.render_run": {"queue": PAID},
    # Separation needs the GPU; everything else runs on the default queue.
    "remixing.tasks.separation_*": {"queue": GPU},
    "*": {"queue": DEFAULT},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Stripe. Embedded default: the local sandbox (stripe_sandbox package).
STRIPE_API_KEY = env_str("STRIPE_API_KEY", "sk_test_clearmix_sandbox")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "pk_test_clearmix_sandbox")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "http://127.0.0.1:12111").rstrip("/")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_clearmix_sandbox_secret")
STRIPE_SANDBOX = env_bool("STRIPE_SANDBOX", True)
STRIPE_CURRENCY = env_str("STRIPE_CURRENCY", "usd")
# Each Stripe call gives up after this many seconds and is retried by the SDK
# (same idempotency key) this many times; callers then retry later themselves.
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 20)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
REMIX_PRICE_CENTS = env_int("REMIX_PRICE_CENTS", 299)
PREMIUM_PRICE_CENTS = env_int("PREMIUM_PRICE_CENTS", 999)
REMIX_ADDON_PRICE_CENTS = env_int("REMIX_ADDON_PRICE_CENTS", 499)
PLATFORM_FEE_BPS = env_int("PLATFORM_FEE_BPS", 2000)
MASTER_POOL_BPS = env_int("MASTER_POOL_BPS", 5000)

# Paid means delivered or refunded: a paid remix not delivered after this long
# is cancelled and refunded; a pending order older than this many seconds is
# asked about at Stripe (a lost webhook).
ORDER_DELIVERY_DEADLINE_MINUTES = env_int("ORDER_DELIVERY_DEADLINE_MINUTES", 60)
ORDER_RECONCILE_AFTER_SECONDS = env_int("ORDER_RECONCILE_AFTER_SECONDS", 180)
# Paid orders that arrive together settle together: at most this many per
# database transaction (the fulfilment task and the sweep drain the queue).
ORDER_SETTLE_BATCH = env_int("ORDER_SETTLE_BATCH", 50)
REMIXING_JOB_STALE_SECONDS = env_int("REMIXING_JOB_STALE_SECONDS", 120)

# Stem separation. "auto" takes Demucs (DEMUCS_MODEL) when its weights are installed in
# DEMUCS_MODEL_REPO (`manage.py demucs_weights install --from PATH`), else the embedded
# librosa backend, which needs no download. Nothing is ever downloaded at run time.
SEPARATION_BACKEND = env_str("SEPARATION_BACKEND", "auto").strip().lower()
if SEPARATION_BACKEND not in ("auto", "demucs", "embedded"):
    raise ConfigurationError("SEPARATION_BACKEND", "must be auto, demucs or embedded.")
# Make stems as soon as a recording becomes remixable (false: only when a fan opens the
# studio, e.g. to spare a small GPU pool).
SEPARATION_PREPARE_AHEAD = env_bool("SEPARATION_PREPARE_AHEAD", True)
DEMUCS_MODEL = env_str("DEMUCS_MODEL", "htdemucs")
DEMUCS_MODEL_REPO = env_str("DEMUCS_MODEL_REPO", str(VAR_DIR / "models" / "demucs"))
DEMUCS_DEVICE = env_str("DEMUCS_DEVICE", "auto")
# Seconds of audio per forward pass (None: the model's own; HTDemucs allows at most its
# 7.8 s training segment). Shorter segments use less memory.
_demucs_segment = env_str("DEMUCS_SEGMENT", "").strip()
try:
    DEMUCS_SEGMENT: float | None = float(_demucs_segment) if _demucs_segment else None
except ValueError:
    raise ConfigurationError("DEMUCS_SEGMENT", "must be a number of seconds, or empty.") from None
if DEMUCS_SEGMENT is not None and not DEMUCS_SEGMENT > 0:
    raise ConfigurationError("DEMUCS_SEGMENT", "must be a positive number of seconds.")
# What runs Demucs' network: "torch", "onnx" (ONNX Runtime running the exported network core,
# PyTorch when export or loading fails) or "auto": ONNX Runtime on CPU when onnxruntime is
# importable, PyTorch on CUDA. The stem set records which one made the stems.
SEPARATION_RUNTIME = env_str("SEPARATION_RUNTIME", "auto").strip().lower()
if SEPARATION_RUNTIME not in ("auto", "torch", "onnx"):
    raise ConfigurationError("SEPARATION_RUNTIME", "must be auto, torch or onnx.")
# The exported ONNX networks, one file per model, weights and library versions (a cache:
# safe to delete; each worker exports again on first use).
SEPARATION_ONNX_CACHE = env_str("SEPARATION_ONNX_CACHE", str(VAR_DIR / "models" / "onnx"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Cache: Redis when configured (shared by web and workers), else a file cache
# so the demo's web and worker processes still see the same entries.
# While Redis is unreachable (refused, cut, or silent past the cache's socket
# timeout) the cache falls back to each process's memory and tries Redis
# again after CACHE_RETRY_SECONDS (config.cache): pages still answer, rate
# limits count per process.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": redis_socket_options(
                connect_seconds=env_int("CACHE_SOCKET_TIMEOUT", 1),
                read_seconds=env_int("CACHE_SOCKET_TIMEOUT", 1),
            ),
            "RETRY_SECONDS": env_int("CACHE_RETRY_SECONDS", 10),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Rate-limit counters in a cache of their own (cleared without touching the rest).
CACHES["rate_limits"] = {**CACHES["default"], "KEY_PREFIX": "rate-limits"}
if not REDIS_URL:
    CACHES["rate_limits"]["LOCATION"] = str(VAR_DIR / "cache-rate-limits")

# The doors a script would hammer (marketplace.rate_limits): requests per
# window, per signed-in user (else per address); over it, 429 and Retry-After.
# Log-in and sign-up: allauth's ACCOUNT_RATE_LIMITS; failed log-ins: axes.
RATE_LIMIT_CACHE = "rate_limits"
# Behind a proxy that sets X-Forwarded-For (and strips the client's own), count by it.
RATE_LIMIT_TRUST_FORWARDED_FOR = env_bool("RATE_LIMIT_TRUST_FORWARDED_FOR", False)
RATE_LIMITS = {
    "upload": {
        "methods": ["POST"],
        "path": r"^/catalog/artist/upload/",
        "rate": env_str("RATE_LIMIT_UPLOAD", "30/hour"),
        "message": "You have uploaded many recordings in a short time.",
    },
    "checkout": {
        "methods": ["POST"],
        "path": r"^/billing/(subscribe/[^/]+|remixes/\d+/buy)/$",
        "rate": env_str("RATE_LIMIT_CHECKOUT", "20/hour"),
        "message": "Many checkouts were started in a short time.",
    },
    "api-write": {
        "methods": ["POST", "PUT", "PATCH", "DELETE"],
        "path": r"^/api/",
        "rate": env_str("RATE_LIMIT_API_WRITE", "120/minute"),
        "message": "Too many changes were sent to the API in a short time.",
    },
    "api-read": {
        "methods": ["GET", "HEAD"],
        "path": r"^/api/",
        "rate": env_str("RATE_LIMIT_API_READ", "600/minute"),
        "message": "Too many API requests were made in a short time.",
    },
}
# allauth: sign-ups and log-ins per address, failed log-ins per address and account.
ACCOUNT_RATE_LIMITS = {
    "signup": env_str("RATE_LIMIT_SIGNUP", "10/h/ip"),
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
}

# Remixing jobs hold leases (remixing.leases): a claim lives this long
# without a heartbeat, then is taken over; the sweep re-queues expired and
# lost jobs. The lease must stay well under CELERY_VISIBILITY_TIMEOUT.
REMIXING_JOB_LEASE_SECONDS = env_int(
    "REMIXING_JOB_LEASE_SECONDS", env_int("REMIXING_JOB_STALE_SECONDS", 120)
)
REMIXING_JOB_REQUEUE_SECONDS = env_int("REMIXING_JOB_REQUEUE_SECONDS", 600)
REMIXING_JOB_MAX_ATTEMPTS = env_int("REMIXING_JOB_MAX_ATTEMPTS", 3)
REMIXING_JOB_RETRY_BACKOFF_SECONDS = env_int("REMIXING_JOB_RETRY_BACKOFF_SECONDS", 60)
REMIXING_JOB_SWEEP_SECONDS = env_int("REMIXING_JOB_SWEEP_SECONDS", 60)
# Payouts: how often beat runs the payouts sweep, and how long a transfer or
# reversal attempt may go without reporting back (a worker killed mid-call,
# an answer that never came) before the sweep sends it again, with the same
# idempotency key while it is pending. Keep it above one whole Stripe call
# (STRIPE_TIMEOUT_SECONDS x (STRIPE_MAX_NETWORK_RETRIES + 1)).
PAYOUTS_SWEEP_SECONDS = env_int("PAYOUTS_SWEEP_SECONDS", 600)
PAYOUT_ATTEMPT_STUCK_SECONDS = env_int("PAYOUT_ATTEMPT_STUCK_SECONDS", 600)
CELERY_BEAT_SCHEDULE = beat_schedule(
    remixing_jobs_sweep_seconds=REMIXING_JOB_SWEEP_SECONDS,
    payouts_sweep_seconds=PAYOUTS_SWEEP_SECONDS,
)

# Also keep a lossless WAV of each rendered remix (off: MP3 and Ogg only).
REMIXING_RENDER_WAV = env_bool("REMIXING_RENDER_WAV", False)

# Compile librosa's numba kernels in the worker's main process before it forks its
# pool: pool processes compiling them together can corrupt numba's cache and crash
# (remixing/engine/warmup.py). Seconds on a cold cache, about one on a warm one.
REMIXING_NUMBA_WARMUP = env_bool("REMIXING_NUMBA_WARMUP", True)

# Sing your own cover: a take recorded in the studio (Opus in WebM or Ogg, about
# 32 kB a second) may be at most this big and this long; a remix keeps this many.
REMIXING_COVER_TAKE_MAX_BYTES = 25 * 1024 * 1024
REMIXING_COVER_TAKE_MAX_SECONDS = 15 * 60
REMIXING_COVER_TAKES_PER_REMIX = 12

# The licensing audit's patience before something counts as an anomaly.
AUDIT_SETTLEMENT_GRACE_MINUTES = env_int("AUDIT_SETTLEMENT_GRACE_MINUTES", 30)
AUDIT_TRANSFER_GRACE_DAYS = env_int("AUDIT_TRANSFER_GRACE_DAYS", 3)
AUDIT_REFUND_GRACE_MINUTES = env_int("AUDIT_REFUND_GRACE_MINUTES", 15)
AUDIT_LEASE_GRACE_MINUTES = env_int("AUDIT_LEASE_GRACE_MINUTES", 10)

# Where `manage.py run_demo` serves the site (its --host and --port defaults).
DEMO_HOST = env_str("CLEARMIX_HOST", "127.0.0.1")
DEMO_PORT = env_int("CLEARMIX_PORT", 8000)
