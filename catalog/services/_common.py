"""Helpers shared by the catalog services."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from catalog import signals
from catalog.identifiers import IdentifierError
from catalog.models import Recording
from core.errors import DomainError


def identifier_or_error(normalize, value: str | None, field: str) -> str | None:
    """Normalize an optional identifier, turning a bad one into a field error."""
    if value is None or not str(value).strip():
        return None
    try:
        return normalize(value)
    except IdentifierError as error:
        raise DomainError(
            str(error), code="invalid_identifier", fields={field: [str(error)]}
        ) from None


def announce_rights_changed(recording_ids: list[int], reason: str) -> None:
    """Tell higher apps (after commit) that these recordings may have become remixable."""
    # After commit, so receivers (stem preparation) never see a rolled-back row.
    transaction.on_commit(
        partial(
            signals.rights_changed.send,
            sender=Recording,
            recording_ids=recording_ids,
            reason=reason,
        )
    )
