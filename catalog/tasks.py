"""Catalog housekeeping run by Celery beat."""

from __future__ import annotations

from celery import shared_task

from catalog.services import recording_remixability_refresh_due


@shared_task(name="catalog.tasks.remixability_refresh_due")
def remixability_refresh_due() -> int:
    """Beat, every minute: re-derive recordings whose scheduled split version
    has taken effect (lists leave them out until then)."""
    return recording_remixability_refresh_due()
