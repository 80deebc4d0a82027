"""The Celery beat schedule: every periodic task of every app, in one table.

Settings take it whole (`CELERY_BEAT_SCHEDULE = beat_schedule(...)`); nothing
else adds entries. No Django import: settings load this module.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from core.queues import WORKER_QUEUES

# Integrity checks for the audit dashboard (hourly, spread over the hour); a
# failure shows a banner to auditors.
AUDIT_CHECK_MINUTES = (("consent_chain", 5), ("ledger", 20), ("audit_log", 35))


def beat_schedule(
    *, remixing_jobs_sweep_seconds: float, payouts_sweep_seconds: float = 600.0
) -> dict[str, dict[str, Any]]:
    schedule: dict[str, dict[str, Any]] = {
        # One heartbeat per queue a worker must take from (marketplace.heartbeat).
        **{
            f"healthz-heartbeat-{queue}": {
                "task": "marketplace.tasks.heartbeat",
                "schedule": crontab(minute="*/5"),
                "args": (queue,),
                "options": {"queue": queue},
            }
            for queue in WORKER_QUEUES
        },
        # Re-queues remixing jobs whose lease expired (see remixing.leases).
        "remixing-jobs-sweep": {
            "task": "remixing.tasks.jobs_sweep",
            "schedule": float(remixing_jobs_sweep_seconds),
        },
        "order-fulfil-sweep": {
            "task": "marketplace.tasks.order_fulfil_sweep",
            "schedule": crontab(minute="*/5"),
        },
        "catalog-remixability-refresh-due": {
            "task": "catalog.tasks.remixability_refresh_due",
            "schedule": crontab(minute="*"),
        },
        "delivery-sweep": {
            "task": "marketplace.tasks.delivery_sweep",
            "schedule": crontab(minute="*/2"),
        },
        # Pays what is owed and retries transfers and reversals whose backoff
        # is over or whose attempt never reported back (a worker killed mid-call).
        "royalties-payouts-sweep": {
            "task": "royalties.tasks.payouts_sweep",
            "schedule": float(payouts_sweep_seconds),
        },
        "audit-check-stripe": {
            "task": "marketplace.tasks.audit_check_run",
            "schedule": crontab(minute=50, hour="*/6"),  # lists every transfer at Stripe
            "args": ("stripe",),
        },
    }
    for name, minute in AUDIT_CHECK_MINUTES:
        schedule[f"audit-check-{name}"] = {
            "task": "marketplace.tasks.audit_check_run",
            "schedule": crontab(minute=minute),
            "args": (name,),
        }
    return schedule
