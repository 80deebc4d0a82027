"""The cache (Redis) away, through the TCP fault proxy: refused, then
black-holed (accepts, never answers). Pages that cache (home, browse, the
catalog API) still answer 200 with the right content, quickly: the cache
falls back to the process's memory (config.cache). Rate limits keep
counting per process: the deliberate, documented fail-safe (README,
CACHE_RETRY_SECONDS): a limit still refuses the request over it with 429,
never everyone and never no one. When Redis answers again the pages use it.

Needs Redis (skips with the file cache: there is no socket to cut).
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.core.cache import cache, caches

from catalog.services.listing_state import catalog_listing_changed
from tests.catalog.factories import remixable_recording

pytestmark = pytest.mark.django_db

SOCKET_S = 0.5
RETRY_S = 1
HANG_S = 10
PAGES = ("/", "/tracks/", "/api/v1/tracks/")


@pytest.fixture
def client(client):
    client.raise_request_exception = False
    return client


@pytest.fixture
def cache_via_proxy(settings, fault_proxy):
    """Both caches (pages and rate limits) reach Redis only through a proxy,
    with short timeouts; pages cache for a minute, as in production."""
    default = settings.CACHES["default"]
    if not default["BACKEND"].endswith("RedisCache"):
        pytest.skip("a cache outage needs the Redis cache (set REDIS_URL); this run uses files")
    parts = urlsplit(default["LOCATION"])
    proxy = fault_proxy(parts.hostname, parts.port or 6379)
    location = urlunsplit(parts._replace(netloc=f"{proxy.host}:{proxy.port}"))
    options = {
        **default["OPTIONS"],
        "socket_timeout": SOCKET_S,
        "socket_connect_timeout": SOCKET_S,
    }
    through = {**default, "LOCATION": location, "OPTIONS": options, "RETRY_SECONDS": RETRY_S}
    settings.CACHES = {
        "default": through,
        "rate_limits": {**through, "KEY_PREFIX": f"{default.get('KEY_PREFIX', '')}rl-faults"},
    }
    settings.CATALOG_LIST_CACHE_SECONDS = 60
    yield proxy
    proxy.pass_()
    caches["rate_limits"].clear()


def in_redis(settings_location: str, key: str) -> bool:
    """Whether `key` (a cache key before Django's prefixing) is in Redis."""
    client = redis.Redis.from_url(settings_location)
    return any(client.scan_iter(match=f"*{key}*", count=1000))


def fetch_all(client) -> tuple[dict[str, int], float]:
    started = time.monotonic()
    statuses = {}
    for path in PAGES:
        response = client.get(path)
        statuses[path] = response.status_code
        if response.status_code == 200 and path != "/api/v1/tracks/":
            assert "Cached Track" in response.content.decode(), path
    return statuses, time.monotonic() - started


def test_pages_answer_while_the_cache_is_refused_then_black_holed_then_use_it_again(
    client, settings, cache_via_proxy
):
    remixable_recording(title="Cached Track")
    ok = dict.fromkeys(PAGES, 200)
    statuses, _ = fetch_all(client)  # warm: Redis holds the lists
    assert statuses == ok
    assert in_redis(settings.REDIS_URL, "catalog:listing-version")

    cache_via_proxy.drop()  # Redis refuses: each call fails at once
    statuses, elapsed = fetch_all(client)
    assert statuses == ok and elapsed < 3, elapsed
    catalog_listing_changed()  # a write that retires the lists does not fail either
    assert cache.get("anything") is None

    time.sleep(RETRY_S + 0.1)  # Redis is tried again, and is now silent
    cache_via_proxy.blackhole()
    rescue = threading.Timer(HANG_S, cache_via_proxy.drop)
    rescue.start()
    statuses, elapsed = fetch_all(client)
    rescue.cancel()
    # One call waits one socket timeout; the rest skip Redis until the retry time.
    assert statuses == ok and elapsed < SOCKET_S * 2 + 2, elapsed

    cache_via_proxy.pass_()  # Redis is back
    time.sleep(RETRY_S + 0.1)
    statuses, _ = fetch_all(client)
    assert statuses == ok
    cache.set("faults-probe", 1)
    assert in_redis(settings.REDIS_URL, "faults-probe")  # written to Redis again
    assert cache.get("faults-probe") == 1


def test_rate_limits_keep_counting_per_process_while_the_cache_is_away(
    client, settings, cache_via_proxy
):
    settings.RATE_LIMITS = {
        "api-read": {**settings.RATE_LIMITS["api-read"], "rate": "3/minute"},
    }
    cache_via_proxy.drop()
    statuses = [client.get("/api/v1/tracks/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/tracks/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
