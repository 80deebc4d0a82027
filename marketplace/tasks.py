"""Housekeeping tasks of the marketplace."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task(name="marketplace.tasks.heartbeat")
def heartbeat() -> str:
    """Proves a worker consumes the default queue; /healthz shows the time."""
    now = timezone.now().isoformat()
    cache.set("clearmix:worker-heartbeat", now, timeout=None)
    return now
