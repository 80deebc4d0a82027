"""The remix's status history: jobs, renders, publication."""

from __future__ import annotations

from marketplace.audit.links import record_url
from remixing.models import Remix, RemixEvent
from remixing.selectors import remix_history

from .items import TrailItem

STATUS_BADGES = {"failed": "bad", "cancelled": "bad", "ready": "ok", "published": "ok"}


def _job_item(event: RemixEvent) -> TrailItem:
    unpublished = bool((event.data or {}).get("unpublished"))
    is_publication = event.to_status == "published" or unpublished
    status = "warn" if unpublished else STATUS_BADGES.get(event.to_status, "muted")
    detail = event.reason
    if event.consent_event_id:
        detail += f" (caused by consent event #{event.consent_event.seq})"
    return TrailItem(
        event.created_at,
        "publication" if is_publication else "job",
        f"{event.from_status or 'new'} → {event.to_status}"
        + (" (unpublished)" if unpublished else ""),
        f"{detail} — by {event.get_actor_kind_display().lower()}"
        + (f" {event.actor}" if event.actor_id else "")
        + (f", attempt {event.attempt}" if event.attempt else ""),
        status,
        event.to_status,
        record_url(event),
        f"Remix event #{event.pk}",
    )


def job_items(remix: Remix) -> list[TrailItem]:
    return [_job_item(event) for event in remix_history(remix=remix)]
