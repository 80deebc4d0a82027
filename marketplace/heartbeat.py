"""Worker heartbeats, one per queue a worker must consume.

Beat sends `marketplace.tasks.heartbeat` to each queue every five minutes
(config.beat); the worker that takes it writes the time, and /healthz shows
it. A deployment whose workers forgot the `paid` queue would take payments
and never deliver: its `paid` heartbeat stops while `default`'s goes on.
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

from core.queues import WORKER_QUEUES


def _key(queue: str) -> str:
    return f"clearmix:worker-heartbeat:{queue}"


def heartbeat_record(*, queue: str) -> str:
    now = timezone.now().isoformat()
    cache.set(_key(queue), now, timeout=None)
    return now


def heartbeats_last() -> dict[str, str | None]:
    """When a worker last took a heartbeat from each queue (None: never, or
    not since the cache was emptied)."""
    found = cache.get_many([_key(queue) for queue in WORKER_QUEUES])
    return {queue: found.get(_key(queue)) for queue in WORKER_QUEUES}
