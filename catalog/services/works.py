"""Works (compositions) and their writer credits."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from catalog.identifiers import normalize_iswc
from catalog.models import Party, Work, WorkWriter
from catalog.selectors import recording_ids_of_work
from core.errors import DomainError

from ._common import identifier_or_error
from .listing_state import recording_search_refresh


@transaction.atomic
def work_create(
    *,
    title: str,
    iswc: str | None = None,
    writers: Sequence[tuple[Party, str]] = (),
) -> Work:
    """Create a work, or return the one with this ISWC. `writers` are
    (party, role) pairs with role composer / lyricist / composer_lyricist."""
    title = (title or "").strip()
    if not title:
        raise DomainError("A work needs a title.", fields={"work_title": ["Enter a title."]})
    iswc = identifier_or_error(normalize_iswc, iswc, "iswc")
    work = Work.objects.filter(iswc=iswc).first() if iswc else None
    if work is None:
        work = Work.objects.create(title=title, iswc=iswc)
    for order, (party, role) in enumerate(writers):
        if party.kind != Party.Kind.SONGWRITER:
            raise DomainError(
                f"{party.name} is not a songwriter.", fields={"writers": ["Songwriters only."]}
            )
        if role not in WorkWriter.Role.values:
            raise DomainError("Unknown writer role.", fields={"writers": [f"{role!r}?"]})
        WorkWriter.objects.update_or_create(
            work=work, party=party, defaults={"role": role, "order": order}
        )
    if writers:
        recording_search_refresh(recording_ids=recording_ids_of_work(work_id=work.pk))
    return work
