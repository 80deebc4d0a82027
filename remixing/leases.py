"""Job leases: who holds a running job, until when, and when to try again.

A claim writes `lease_owner` (host:pid of the worker process) and
`lease_expires_at`; every heartbeat (progress write) pushes the expiry out.
A lease is live until it expires, unless its holder is a process on this
very host that no longer exists (a SIGKILLed pool process): then the
redelivered task takes over at once instead of waiting out the lease.

Workers run one job per process (prefork or solo pools), so a process never
holds two leases at once; that is what makes "host:pid" a sufficient name.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone


def lease_seconds() -> float:
    """How long a claim lives without a heartbeat. Must stay well under the
    broker's redelivery delay (Redis visibility timeout)."""
    return float(settings.REMIXING_JOB_LEASE_SECONDS)


def requeue_after_seconds() -> float:
    """A queued job whose task has not started this long is queued again
    (its message was lost: a broker restart or flush)."""
    return float(settings.REMIXING_JOB_REQUEUE_SECONDS)


def max_attempts() -> int:
    return settings.REMIXING_JOB_MAX_ATTEMPTS


def retry_delay_seconds(attempt_in_run: int) -> float:
    """Backoff before the next automatic attempt: base, 4 x base, 16 x base…"""
    base = float(settings.REMIXING_JOB_RETRY_BACKOFF_SECONDS)
    return min(base * 4 ** max(0, attempt_in_run - 1), 3600.0)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=lease_seconds())


def _holder_gone(owner: str) -> bool:
    """True when the holder is a process of this host that has died (or is
    this very process, which runs one job at a time and so is past it)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only the expiry can tell
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    # A killed process nobody has reaped yet (its parent died too) still
    # answers kill(pid, 0); Linux says what it is in /proc.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def lease_is_live(*, owner: str, expires_at: datetime | None, now: datetime | None = None) -> bool:
    if expires_at is None or expires_at <= (now or timezone.now()):
        return False
    return not _holder_gone(owner)


def duration_words(seconds: float) -> str:
    """ "about a minute", "about 4 minutes", "about an hour", for fans."""
    minutes = max(1, round(seconds / 60))
    if minutes >= 60:
        hours = round(minutes / 60)
        return "about an hour" if hours == 1 else f"about {hours} hours"
    return "about a minute" if minutes == 1 else f"about {minutes} minutes"


def lease_clear(job) -> None:
    """Drop a job's lease (its row is saved by the caller)."""
    job.lease_owner, job.lease_expires_at = "", None
