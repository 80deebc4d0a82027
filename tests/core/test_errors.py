"""core.errors: the one domain error type (pure)."""

from __future__ import annotations

from core.errors import Conflict, DomainError, NotFound, PermissionDenied


def test_error_shape():
    error = DomainError("Shares must add up.", code="bad_split", fields={"bps": "too high"})
    assert error.as_dict() == {
        "code": "bad_split",
        "message": "Shares must add up.",
        "fields": {"bps": ["too high"]},
    }
    assert error.status_code == 400


def test_subclasses_carry_their_status():
    assert (PermissionDenied("no").status_code, PermissionDenied("no").code) == (
        403,
        "permission_denied",
    )
    assert (NotFound("gone").status_code, Conflict("busy").status_code) == (404, 409)
    assert DomainError("x", status_code=422).status_code == 422
