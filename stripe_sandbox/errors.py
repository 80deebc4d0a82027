"""Stripe-shaped API errors.

Handlers raise :class:`StripeError`; the HTTP layer turns it into
``{"error": {...}}`` with the matching status code. The status codes matter
because the stripe SDK picks its exception class from them (400/404 ->
InvalidRequestError or IdempotencyError, 401 -> AuthenticationError,
402 -> CardError, 403 -> PermissionError).
"""

from __future__ import annotations

from typing import Any

DOC_BASE = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An error that is rendered as a Stripe API error body."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            # Stripe links every coded error to its docs page (dashes, not underscores).
            err["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        if self.param:
            err["param"] = self.param
        if self.decline_code:
            err["decline_code"] = self.decline_code
        err.update(self.extra)
        return {"error": err}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, "invalid_request_error", message, code=code, param=param)


def missing_param(param: str) -> StripeError:
    return StripeError(
        400,
        "invalid_request_error",
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
    )


def unknown_param(param: str) -> StripeError:
    return StripeError(
        400,
        "invalid_request_error",
        f"Received unknown parameter: {param}",
        code="parameter_unknown",
        param=param,
    )


def no_such(kind: str, object_id: str, param: str = "id", status: int = 404) -> StripeError:
    """``No such customer: 'cus_x'`` -- 404 on retrieve, 400 when a body param refers to it."""
    return StripeError(
        status,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def card_declined(
    message: str, code: str, decline_code: str | None, extra: dict[str, Any] | None = None
) -> StripeError:
    return StripeError(
        402,
        "card_error",
        message,
        code=code,
        param=None,
        decline_code=decline_code,
        extra=extra,
    )


def authentication(message: str) -> StripeError:
    # Stripe reports bad keys with type invalid_request_error and HTTP 401.
    return StripeError(401, "invalid_request_error", message)


def idempotency_mismatch(key: str) -> StripeError:
    return StripeError(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
    )


def balance_insufficient(message: str) -> StripeError:
    return StripeError(400, "invalid_request_error", message, code="balance_insufficient")
