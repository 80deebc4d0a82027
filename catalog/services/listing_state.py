"""Remixability and search text kept as state on each recording.

Lists (home, browse, the API) filter and search millions of rows, so they
cannot run the rule per request. Every write that can change a recording's
verdict or its searchable names calls these functions in its own transaction;
`recording_remixability` stays the one rule, and the stored state is derived
from it, never computed on its own.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from catalog.models import Recording, SplitVersion
from catalog.selectors import (
    LISTING_VERSION_KEY,
    recording_remixability_map,
    recording_search_documents,
)

# Bounds the memory and the IN lists of one step; a catalog-wide consent
# change of a large label runs in several steps of the same transaction.
CHUNK = 1000


def _next_split_changes(recordings: list[Recording]) -> dict[int, datetime]:
    """When a split version scheduled for later takes effect: the verdict may
    change then without any write, so the row is due for a refresh."""
    ids = [r.pk for r in recordings]
    work_ids = {r.work_id for r in recordings if r.work_id}
    upcoming = SplitVersion.objects.filter(effective_from__gt=timezone.now()).order_by()
    by_recording = dict(
        upcoming.filter(recording_id__in=ids)
        .values("recording_id")
        .annotate(at=Min("effective_from"))
        .values_list("recording_id", "at")
    )
    by_work = (
        dict(
            upcoming.filter(work_id__in=work_ids)
            .values("work_id")
            .annotate(at=Min("effective_from"))
            .values_list("work_id", "at")
        )
        if work_ids
        else {}
    )
    due: dict[int, datetime] = {}
    for recording in recordings:
        times = [t for t in (by_recording.get(recording.pk), by_work.get(recording.work_id)) if t]
        if times:
            due[recording.pk] = min(times)
    return due


def _new_version(key: str) -> None:
    cache.set(key, uuid.uuid4().hex, None)


def cache_version_bump(key: str) -> None:
    """Retire everything cached under this version key (see
    `versioned_cached`). Now, so this transaction's own reads are fresh, and
    again on commit, so a value cached from the state just before the commit
    is never served after it."""
    _new_version(key)
    transaction.on_commit(lambda: _new_version(key))


def catalog_listing_changed() -> None:
    """Retire every cached list (see `cache_version_bump`)."""
    cache_version_bump(LISTING_VERSION_KEY)


def _refresh_chunk(ids: list[int]) -> int:
    # Locked in id order, FOR NO KEY UPDATE: only the non-key state columns
    # change, so foreign-key checks (KEY SHARE, taken by inserts that point at
    # a recording) never conflict with it; a full FOR UPDATE here deadlocked a
    # revocation against a concurrent insert that upgraded its own lock. A
    # concurrent write to the same recording waits
    # here, and whoever refreshes last reads everything committed before it
    # (READ COMMITTED takes a new snapshot per statement), so the last
    # writer's state is always the rule's answer.
    recordings = list(
        Recording.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .only("id", "work_id", "is_remixable", "remixability_reasons", "remixability_due_at")
    )
    verdicts = recording_remixability_map(recordings)
    due = _next_split_changes(recordings)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for recording in recordings:
        wanted = (
            verdicts[recording.pk].remixable,
            verdicts[recording.pk].reason_codes,
            due.get(recording.pk),
        )
        stored = (
            recording.is_remixable,
            recording.remixability_reasons,
            recording.remixability_due_at,
        )
        if wanted != stored:
            groups[wanted].append(recording.pk)
    for (remixable, reasons, due_at), group in groups.items():
        Recording.objects.filter(pk__in=group).update(
            is_remixable=remixable, remixability_reasons=reasons, remixability_due_at=due_at
        )
    return sum(len(group) for group in groups.values())


@transaction.atomic
def recording_remixability_refresh(*, recording_ids: Iterable[int]) -> int:
    """Store the rule's verdict on each recording; returns how many changed.

    Call it inside the transaction of every write that can change the
    verdict: consent events, split versions, artist and work links,
    takedowns.
    """
    ids = sorted(set(recording_ids))
    changed = sum(_refresh_chunk(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK))
    if changed:
        catalog_listing_changed()
    return changed


def recording_remixability_refresh_due() -> int:
    """Refresh recordings whose scheduled split version has taken effect."""
    due = Recording.objects.filter(remixability_due_at__lte=timezone.now())
    return recording_remixability_refresh(recording_ids=due.values_list("pk", flat=True))


@transaction.atomic
def recording_search_refresh(*, recording_ids: Iterable[int]) -> int:
    """Store each recording's search text (title, artists, work, songwriters,
    ISRC, ISWC). Call it with every write that changes one of those names."""
    ids = sorted(set(recording_ids))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        recordings = list(Recording.objects.filter(pk__in=ids[start : start + CHUNK]))
        documents = recording_search_documents(recordings)
        stale = []
        for recording in recordings:
            if recording.search_text != documents[recording.pk]:
                recording.search_text = documents[recording.pk]
                stale.append(recording)
        Recording.objects.bulk_update(stale, ["search_text"], batch_size=500)
        changed += len(stale)
    if changed:
        catalog_listing_changed()  # names show on cards and in reasons
    return changed


def recording_listing_refresh(*, recording_ids: Iterable[int]) -> None:
    """Both kinds of state, for writes that create or edit recordings: they
    also change what cards show (genre, tempo), so cached lists retire."""
    ids = list(recording_ids)
    recording_remixability_refresh(recording_ids=ids)
    recording_search_refresh(recording_ids=ids)
    catalog_listing_changed()
