"""Clearing the Redis cache deletes the cache's keys, never the broker's.

The cache and the Celery broker share one Redis database (REDIS_URL is
both). Django's RedisCache.clear() is FLUSHDB: a test calling cache.clear()
in one pytest-xdist process deleted the tasks the other process had queued
for its Celery worker (the browser journey's paid order then never reached
its worker), and in production a clear would drop every queued task.

Needs Redis (skips with the file cache).
"""

from __future__ import annotations

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.core.cache import cache

from config.cache import FallbackRedisCache

pytestmark = pytest.mark.skipif(
    not settings.CACHES["default"]["BACKEND"].endswith("FallbackRedisCache"),
    reason="needs the Redis cache (set REDIS_URL)",
)


def _queue_key() -> str:
    """This process's `default` queue in Redis (kombu's global_keyprefix under xdist)."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    return f"{prefix}default"


def test_clear_leaves_the_tasks_queued_in_the_same_redis():
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    waiting = broker.llen(_queue_key())
    current_app.send_task("marketplace.tasks.heartbeat")
    try:
        cache.set("cache-clear-probe", 1)
        cache.clear()
        assert cache.get("cache-clear-probe") is None
        assert broker.llen(_queue_key()) == waiting + 1  # the task is still queued
    finally:
        broker.lpop(_queue_key())  # ours, the newest: no worker will run it


def test_another_process_clearing_its_cache_leaves_ours():
    """What pytest-xdist's processes do: one Redis database, a key prefix each."""
    default = settings.CACHES["default"]
    other = FallbackRedisCache(
        default["LOCATION"], {**default, "KEY_PREFIX": f"{cache.key_prefix}-other-process"}
    )
    cache.set("ours", "kept")
    other.set("theirs", "gone")
    try:
        other.clear()
        assert other.get("theirs") is None
        assert cache.get("ours") == "kept"
    finally:
        cache.delete("ours")


def test_one_redis_client_per_pool_serves_every_call():
    """Django's client built a redis.Redis (some 170 callbacks registered) for
    every cache call; ours keeps one per connection pool."""
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is client
    cache.set("one-client", 1)
    assert cache.get("one-client") == 1 and cache._cache.get_client() is client
