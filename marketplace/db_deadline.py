"""A reply deadline for every PostgreSQL statement, kept by the client.

The server cancels a statement that runs too long (statement_timeout), and
libpq gives up on a connection that cannot be opened (connect_timeout). Neither
helps when the server, or something between us and it, takes the statement
and then goes silent without a reset: a frozen host, a proxy or firewall that
holds the connection open. TCP keepalives do not fire while the peer's
kernel still acknowledges, so the request would wait forever.

Here every statement is watched: one daemon thread per process shuts the
connection's socket down once a statement has had no reply for
DATABASE_REPLY_TIMEOUT_MS (by default the statement timeout plus five
seconds, so a statement the server is still running is cancelled by the
server first). The waiting call then fails with OperationalError, which
pages and the API answer as 503 (marketplace.middleware) and tasks retry.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

_POLL_S = 0.05


class _Watchdog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[int, tuple[float, int]] = {}
        self._counter = 0
        self._thread: threading.Thread | None = None

    def reinit(self) -> None:
        """In a forked child (Celery's pool): fresh lock, no calls, no thread."""
        self.__init__()  # type: ignore[misc]

    def watch(self, fd: int, seconds: float) -> int:
        with self._lock:
            self._counter += 1
            self._calls[self._counter] = (time.monotonic() + seconds, fd)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="db-deadline", daemon=True)
                self._thread.start()
            return self._counter

    def done(self, token: int) -> None:
        with self._lock:
            self._calls.pop(token, None)

    def _run(self) -> None:
        while True:
            time.sleep(_POLL_S)
            now = time.monotonic()
            # Under the lock: a call that ended has been removed (done() runs
            # before its connection can close), so the fd is still its own.
            with self._lock:
                expired = [token for token, (due, _) in self._calls.items() if due <= now]
                for token in expired:
                    _, fd = self._calls.pop(token)
                    _shutdown(fd)


def _shutdown(fd: int) -> None:
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
        log.warning("database gave no reply in time: connection (fd %s) shut down", fd)
    except OSError:
        pass
    finally:
        sock.close()


_watchdog = _Watchdog()
os.register_at_fork(after_in_child=_watchdog.reinit)


def reply_deadline(execute, sql: str, params: Any, many: bool, context: dict) -> Any:
    """Django execute wrapper: the statement's reply is awaited for at most
    DATABASE_REPLY_TIMEOUT_MS (0: no deadline)."""
    limit_ms = settings.DATABASE_REPLY_TIMEOUT_MS
    raw = context["connection"].connection
    if limit_ms <= 0 or raw is None:
        return execute(sql, params, many, context)
    token = _watchdog.watch(raw.fileno(), limit_ms / 1000)
    try:
        return execute(sql, params, many, context)
    finally:
        _watchdog.done(token)


def install_reply_deadline(sender, connection, **kwargs) -> None:
    """connection_created receiver: watch every PostgreSQL connection."""
    if connection.vendor == "postgresql" and reply_deadline not in connection.execute_wrappers:
        connection.execute_wrappers.append(reply_deadline)
