"""Helpers shared by the catalog services."""

from __future__ import annotations

from catalog.errors import DomainError
from catalog.identifiers import IdentifierError


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
