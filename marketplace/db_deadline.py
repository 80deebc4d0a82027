"""A reply deadline for every PostgreSQL statement, kept by the client.

The server cancels a statement that runs too long (statement_timeout), and
libpq gives up on a connection that cannot be opened (connect_timeout). Neither
helps when the server, or something between us and it, takes the statement
and then goes silent without a reset: a frozen host, a proxy or firewall that
holds the connection open. TCP keepalives do not fire while the peer's
kernel still acknowledges, so the request would wait forever.

Here every round trip is watched: each statement, each COMMIT and ROLLBACK
(which psycopg sends without Django's execute wrappers), and each fetch from
(and close of) a server-side cursor, which `.iterator()` uses on PostgreSQL.
One daemon thread per process shuts the connection's socket down once a call
has had no reply for DATABASE_REPLY_TIMEOUT_MS (by default the statement
timeout plus five seconds, so a statement the server is still running is
cancelled by the server first). The waiting call then fails with
OperationalError, which pages and the API answer as 503
(marketplace.middleware) and tasks retry.

A COMMIT cut off this way has an unknown outcome: the server may have
committed before it went silent. It still fails the caller (atomic() raises,
its on_commit callbacks are dropped), so nothing reports success for it; the
work is done again by its retry or sweep, whose idempotency keys find what
the server did keep.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _awaiting_reply(raw) -> Iterator[None]:
    """The reply to what is sent inside is awaited for at most
    DATABASE_REPLY_TIMEOUT_MS (0: no deadline) on the psycopg connection raw."""
    limit_ms = settings.DATABASE_REPLY_TIMEOUT_MS
    if limit_ms <= 0 or raw is None or raw.closed:
        yield
        return
    token = _watchdog.watch(raw.fileno(), limit_ms / 1000)
    try:
        yield
    finally:
        _watchdog.done(token)


def reply_deadline(execute, sql: str, params: Any, many: bool, context: dict) -> Any:
    """Django execute wrapper: the statement's reply is awaited for at most
    DATABASE_REPLY_TIMEOUT_MS (0: no deadline)."""
    with _awaiting_reply(context["connection"].connection):
        return execute(sql, params, many, context)


class _WatchedServerCursor:
    """A server-side (named) cursor whose every fetch and close is watched:
    each one is a round trip (FETCH FORWARD, CLOSE) that no execute wrapper
    sees. Everything else is the cursor's own."""

    _WATCHED = frozenset({"fetchone", "fetchmany", "fetchall", "scroll", "close"})

    def __init__(self, cursor, connection) -> None:
        object.__setattr__(self, "_cursor", cursor)
        object.__setattr__(self, "_connection", connection)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._cursor, name)
        if name not in self._WATCHED:
            return attribute

        def watched(*args, **kwargs):
            with _awaiting_reply(self._connection):
                return attribute(*args, **kwargs)

        return watched

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._cursor, name, value)

    def __iter__(self) -> Iterator[Any]:
        while rows := self.fetchmany(self._cursor.itersize):
            yield from rows


def _watch_round_trips_outside_execute(connection) -> None:
    """COMMIT, ROLLBACK and server-side cursors bypass execute wrappers, so
    this connection's own methods for them are wrapped, once per wrapper."""
    commit, rollback, create_cursor = (
        connection._commit,
        connection._rollback,
        connection.create_cursor,
    )

    def watched_commit():
        with _awaiting_reply(connection.connection):
            return commit()

    def watched_rollback():
        with _awaiting_reply(connection.connection):
            return rollback()

    def watched_create_cursor(name=None):
        cursor = create_cursor(name)
        return _WatchedServerCursor(cursor, connection.connection) if name else cursor

    connection._commit = watched_commit
    connection._rollback = watched_rollback
    connection.create_cursor = watched_create_cursor


def install_reply_deadline(sender, connection, **kwargs) -> None:
    """connection_created receiver: watch every PostgreSQL connection."""
    if connection.vendor != "postgresql" or reply_deadline in connection.execute_wrappers:
        return
    connection.execute_wrappers.append(reply_deadline)
    _watch_round_trips_outside_execute(connection)
