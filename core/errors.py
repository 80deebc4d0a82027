"""The one domain error type for the whole product.

It lives in core, below every app, so every app can raise it. The API maps it
to one error shape and pages turn it into a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """A rule of the product said no. `fields` names the offending inputs."""

    default_code = "invalid"
    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[str] | str] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields: dict[str, list[str]] = {
            name: [msgs] if isinstance(msgs, str) else list(msgs)
            for name, msgs in (fields or {}).items()
        }
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class PermissionDenied(DomainError):
    default_code = "permission_denied"
    status_code = 403


class NotFound(DomainError):
    default_code = "not_found"
    status_code = 404


class Conflict(DomainError):
    default_code = "conflict"
    status_code = 409
