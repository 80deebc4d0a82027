"""The API's exception handler and its one error shape for the whole API:
{"error": {"code": ..., "message": ..., "fields": {field: [messages]}}}."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

from .api_parsers import RequestTooLarge


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            fields.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                fields.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def error_response(error: DomainError) -> Response:
    return Response({"error": error.as_dict()}, status=error.status_code)


def error_json(*, code: str, message: str, status_code: int) -> JsonResponse:
    """The same shape, for answers given outside DRF (middleware, error pages)."""
    body = {"error": {"code": code, "message": message, "fields": {}}}
    return JsonResponse(body, status=status_code)


def _from_django(exc):
    """Django refuses some bodies itself; say so in the API's terms."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent):
        return exceptions.ParseError("The request has too many fields.")
    return exc


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return error_response(exc)
    exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()), ("", ["Invalid input."]))
        message = f"{first[0]}: {first[1][0]}" if first[0] else first[1][0]
        body = {"code": "invalid", "message": message, "fields": fields}
        response.data = {"error": body}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    detail = getattr(exc, "detail", "Error.")
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = {"error": {"code": str(code), "message": str(detail), "fields": {}}}
    return response
