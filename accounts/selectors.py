"""Reads about accounts: handle availability, people by handle, roles."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts.handles import handle_problem
from core.errors import NotFound


def handle_is_taken(*, handle: str, exclude_user_id: int | None = None) -> bool:
    """Case-insensitive, like the database constraint it mirrors."""
    qs = get_user_model().objects.filter(handle__iexact=handle)
    if exclude_user_id is not None:
        qs = qs.exclude(pk=exclude_user_id)
    return qs.exists()


def user_get_public(*, handle: str):
    """The active account behind a handle, any case; NotFound otherwise (a
    deleted account's tombstone has no public page)."""
    user = get_user_model().objects.filter(handle__iexact=handle, is_active=True).first()
    if user is None:
        raise NotFound("Nobody has this handle.")
    return user


def handle_unavailable_reason(*, handle: str, exclude_user_id: int | None = None) -> str | None:
    """Why a person cannot take this handle (rules first, then taken); None if free."""
    problem = handle_problem(handle)
    if problem:
        return problem
    if handle_is_taken(handle=handle, exclude_user_id=exclude_user_id):
        return "That handle is taken. Please choose another."
    return None
