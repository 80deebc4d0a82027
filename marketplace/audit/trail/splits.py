"""The split versions a remix and its settlements used."""

from __future__ import annotations

from django.db.models import Prefetch

from catalog.models import SplitShare, SplitVersion
from marketplace.audit.links import record_url

from .items import TrailItem


def split_list(split_ids: set[int]) -> list[SplitVersion]:
    return list(
        SplitVersion.objects.filter(pk__in=split_ids)
        .select_related("recording", "work")
        .prefetch_related(Prefetch("shares", queryset=SplitShare.objects.select_related("party")))
        .order_by("side", "number")
    )


def split_items(splits: list[SplitVersion]) -> list[TrailItem]:
    items = []
    for version in splits:
        shares = ", ".join(f"{s.party.name} {s.bps / 100:g}%" for s in version.shares.all())
        items.append(
            TrailItem(
                version.effective_from,
                "split",
                f"{version.get_side_display()} split v{version.number} in effect",
                shares,
                "muted",
                "used",
                record_url(version),
                f"Split version #{version.pk}",
            )
        )
    return items
