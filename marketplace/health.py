"""Health checks for /healthz: database, broker, storage, separation backends."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from celery import current_app as celery_app
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from marketplace.heartbeat import heartbeats_last
from remixing.audio import separation_availability


def _timed(check: Callable[[], dict | None]) -> dict:
    started = time.monotonic()
    try:
        extra = check() or {}
        result = {"ok": True, **extra}
    except Exception as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _broker() -> dict:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        transport = conn.transport_cls
    return {
        "transport": str(transport),
        "last_worker_heartbeat": heartbeats_last(),
    }


def _storage() -> dict:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise OSError("storage returned different bytes")
    finally:
        default_storage.delete(name)
    return {"backend": type(default_storage).__name__}


def _separation() -> dict:
    """Which separation backends and models this install can use (no model is loaded)."""
    report = separation_availability()
    if report["selected"]["backend"] is None:
        raise RuntimeError(report["selected"]["reason"])
    return report


def health_report() -> tuple[bool, dict]:
    checks = {
        "database": _timed(_database),
        "broker": _timed(_broker),
        "storage": _timed(_storage),
        "separation": _timed(_separation),
    }
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"status": "ok" if healthy else "degraded", "checks": checks}
