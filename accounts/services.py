"""Writes about accounts: the public name (handle and display name)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.handles import display_name_problem
from accounts.selectors import handle_unavailable_reason
from core.errors import DomainError


def user_profile_errors(*, user_id: int | None, handle: str, display_name: str) -> dict:
    """Field -> plain-word problem, for forms (sign-up, account page) and services alike."""
    errors = {}
    reason = handle_unavailable_reason(handle=handle, exclude_user_id=user_id)
    if reason:
        errors["handle"] = reason
    problem = display_name_problem(display_name)
    if problem:
        errors["display_name"] = problem
    return errors


@transaction.atomic
def user_update_profile(*, user, handle: str, display_name: str):
    """Change the public name. The database's Lower(handle) constraint has the
    last word when two people race for one handle."""
    handle, display_name = handle.strip(), display_name.strip()
    errors = user_profile_errors(user_id=user.pk, handle=handle, display_name=display_name)
    if errors:
        raise DomainError("Please correct the errors below.", code="invalid", fields=errors)
    user.handle, user.display_name = handle, display_name
    try:
        with transaction.atomic():
            user.save(update_fields=["handle", "display_name"])
    except IntegrityError:
        raise DomainError(
            "That handle was just taken.",
            code="handle_taken",
            fields={"handle": "That handle is taken. Please choose another."},
        ) from None
    return user
