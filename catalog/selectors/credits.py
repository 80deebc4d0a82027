"""The credits a remix page or file tag must name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ..identifiers import format_iswc
from ..models import (
    Party,
    Recording,
    RecordingArtist,
    SplitShare,
)
from .remixability import current_split_versions


@dataclass(frozen=True)
class Credits:
    title: str
    main_artists: list[str]
    featured_artists: list[str]
    songwriters: list[tuple[str, str]]  # (name, role label)
    isrc: str
    iswc: str
    work_title: str
    credit_line: str


def _join_names(names: list[str]) -> str:
    if len(names) <= 2:
        return " & ".join(names)
    return ", ".join(names[:-1]) + " & " + names[-1]


def _credits_from(recording: Recording, split_writers: list[str]) -> Credits:
    credits = list(recording.artists.all())
    main = [c.party.name for c in credits if c.role == RecordingArtist.Role.MAIN]
    featured = [c.party.name for c in credits if c.role == RecordingArtist.Role.FEATURED]
    work = recording.work
    writers: list[tuple[str, str]] = []
    if work is not None:
        writers = [(w.party.name, w.get_role_display()) for w in work.writers.all()]
        if not writers:
            writers = [(name, "Songwriter") for name in split_writers]
    line = f"Remix of “{recording.title}”"
    if main:
        line += f" by {_join_names(main)}"
    if featured:
        line += f" feat. {_join_names(featured)}"
    if writers:
        line += f", written by {', '.join(name for name, _ in writers)}"
    return Credits(
        title=recording.title,
        main_artists=main,
        featured_artists=featured,
        songwriters=writers,
        isrc=recording.isrc or "",
        iswc=format_iswc(work.iswc) if work and work.iswc else "",
        work_title=work.title if work else "",
        credit_line=line,
    )


def _split_songwriters(work_ids: set[int]) -> dict[int, list[str]]:
    """work id -> songwriters in its current publishing split (for works with
    no writer credits). Two queries for any number of works."""
    if not work_ids:
        return {}
    current = current_split_versions(work_id__in=work_ids)
    version_work = {version_id: work_id for work_id, (version_id, _) in current.items()}
    names: dict[int, list[str]] = defaultdict(list)
    shares = SplitShare.objects.filter(
        version_id__in=list(version_work), party__kind=Party.Kind.SONGWRITER
    ).order_by("id")
    for version_id, name in shares.values_list("version_id", "party__name"):
        names[version_work[version_id]].append(name)
    return names


def recording_credits(*, recording: Recording) -> Credits:
    """Everything a remix page or file tag must name. Writers come from the
    work's writer credits, else from songwriters in its publishing split."""
    return recording_credits_listed([recording])[recording.pk]


def recording_credits_listed(recordings: Sequence[Recording]) -> dict[int, Credits]:
    """Credits of many recordings in a fixed number of queries: pass rows from
    `recording_queryset_with_credits` (or with the same prefetches)."""
    uncredited = {r.work_id for r in recordings if r.work_id and not list(r.work.writers.all())}
    split_writers = _split_songwriters(uncredited)
    return {r.pk: _credits_from(r, split_writers.get(r.work_id, [])) for r in recordings}
