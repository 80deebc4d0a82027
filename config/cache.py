"""The Redis cache, with a deliberate way of failing: when Redis refuses,
is cut or stays silent past its (short) socket timeout, the cache falls back
to a per-process memory cache for CACHE_RETRY_SECONDS, then tries Redis again.

What that means while Redis is away:

* Pages that cache (browse, home, the catalog API, discovery) still answer:
  they compute what they would have read and keep it in the process's
  memory. Only the first call into a silent Redis waits (one socket
  timeout); the calls after it skip Redis until the retry time.
* Rate limits (marketplace.rate_limits) keep counting, per process: a limit
  of N per window still holds in each web process, so a script gets at most
  N x processes instead of N. They neither fail open nor refuse everyone.
* Writes that retire cached lists retire them in the process's memory; what
  Redis held from before the outage expires on its own lifetime
  (CATALOG_LIST_CACHE_SECONDS), and every door re-checks consent anyway.

Errors other than an unreachable Redis (a wrong type, a bad command) are
raised as before.

`clear()` deletes this cache's keys only. Django's RedisCache.clear() is
FLUSHDB, and the cache shares its Redis database with the Celery broker
(REDIS_URL is both): a clear would also delete every queued task (and, under
pytest-xdist, the tasks of the other test processes, whose keys carry their
own prefix in the same database).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
GUARDED = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)

# Per process and server: until when Redis is skipped (shared by the
# threads' cache objects, which Django makes one per thread).
_down_until: dict[str, float] = {}
_down_lock = threading.Lock()


class PooledRedisCacheClient(RedisCacheClient):
    """Django's client builds a new redis.Redis for every cache call, and its
    constructor registers some 170 response callbacks: about 0.15 ms of CPU a
    call, a millisecond of every page that reads six keys. One client per
    connection pool does the same work (redis.Redis is thread-safe: each
    command takes a connection from the pool)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # The pool helpers are Django's own (not in django-stubs).
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class FallbackRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
        self._server_name = server if isinstance(server, str) else ",".join(server)
        self._retry_seconds = float(params.get("RETRY_SECONDS", 10))
        prefix = params.get("KEY_PREFIX", "")
        self._local = LocMemCache(
            f"fallback:{self._server_name}:{prefix}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "KEY_PREFIX": prefix},
        )

    def redis_is_skipped(self) -> bool:
        return time.monotonic() < _down_until.get(self._server_name, 0.0)

    def count_in_window(self, key: str, timeout: int) -> int | None:
        """Add one to the counter at `key`, made with a lifetime of `timeout`
        seconds if it did not exist, and return it: one round trip (SET NX
        with expiry, then INCR, pipelined), where add() and incr() take three
        (Django's incr asks whether the key exists first). The counter is the
        plain integer Django's serializer stores, so get() reads it. None while
        Redis is skipped: the caller counts with add() and incr(), which this
        cache then keeps in the process's memory."""
        if self.redis_is_skipped():
            return None
        made = self.make_and_validate_key(key)
        try:
            pipe = self._cache.get_client(made, write=True).pipeline(transaction=False)
            pipe.set(made, 0, nx=True, ex=timeout)
            pipe.incr(made)
            return int(pipe.execute()[1])
        except UNREACHABLE as exc:
            self._mark_down(exc)
            return None

    def _mark_down(self, exc: Exception) -> None:
        with _down_lock:
            _down_until[self._server_name] = time.monotonic() + self._retry_seconds
        log.warning(
            "cache: Redis unreachable (%s: %s); per-process memory for %ss",
            type(exc).__name__,
            exc,
            self._retry_seconds,
        )


def redis_clear_own_keys(cache: FallbackRedisCache) -> bool:
    """Delete the keys Django made for this cache ("<KEY_PREFIX>:<version>:<key>",
    the default key function) and nothing else in the database: not the
    broker's queues ("default", "unacked", "_kombu.*", a prefix of its own)."""
    prefix = "".join(f"\\{c}" if c in "*?[]\\" else c for c in cache.key_prefix)
    client = cache._cache.get_client(None, write=True)
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}:[0-9]*:*", count=1000):
        batch.append(key)
        if len(batch) == 500:
            client.delete(*batch)
            batch.clear()
    if batch:
        client.delete(*batch)
    return True


def _guarded(name: str):
    redis_method = redis_clear_own_keys if name == "clear" else getattr(RedisCache, name)

    def method(self: FallbackRedisCache, *args: Any, **kwargs: Any) -> Any:
        if not self.redis_is_skipped():
            try:
                return redis_method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                self._mark_down(exc)
        return getattr(self._local, name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"RedisCache.{name}, or the process's memory while Redis is unreachable."
    return method


for _name in GUARDED:
    setattr(FallbackRedisCache, _name, _guarded(_name))
