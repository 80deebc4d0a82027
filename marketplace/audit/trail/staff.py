"""Staff actions on the remix, its orders or its recording."""

from __future__ import annotations

from django.db.models import Q

from catalog.models import StaffAuditEntry
from marketplace.audit.links import record_url
from marketplace.models import Order
from remixing.models import Remix

from .items import TrailItem


def staff_entry_list(remix: Remix, orders: list[Order]) -> list[StaffAuditEntry]:
    return list(
        StaffAuditEntry.objects.filter(
            Q(subject_type="remix", subject_id=str(remix.pk))
            | Q(subject_type="order", subject_id__in=[str(o.pk) for o in orders])
            | Q(subject_type="recording", subject_id=str(remix.recording_id))
        )
        .select_related("actor")
        .order_by("seq")
    )


def staff_items(entries: list[StaffAuditEntry]) -> list[TrailItem]:
    return [
        TrailItem(
            entry.created_at,
            "staff",
            f"Staff action {entry.action} by {entry.actor}",
            entry.reason,
            "muted",
            f"log #{entry.seq}",
            record_url(entry),
            f"Audit entry #{entry.seq}",
        )
        for entry in entries
    ]
