"""Input no view can use is refused here, before any view runs.

PostgreSQL cannot store or even compare text holding NUL, so a NUL in a path,
a query string or a form field would otherwise reach the database as a 500.
API bodies over the size limit are refused by their declared length, before
a parser reads them, and every JSON body sent to the API is checked here
(depth, NaN, numbers out of range, unstorable text, an object at the top),
even for an endpoint whose view never reads its body: a hostile body is
refused the same way everywhere instead of being ignored by some views. A
page takes only a form: any other body is refused before its view reads it
as an empty form and acts. Each refusal is a 4xx: the one JSON error shape
under /api/, a plain page elsewhere.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from kombu.exceptions import OperationalError as BrokerUnavailable

from catalog.json_limits import JSONRejected, json_loads_bounded

from .views.shell import (
    DATABASE_UNAVAILABLE,
    database_unavailable,
    queue_unavailable,
    refusal_response,
)

NUL_MESSAGE = "The request contains a NUL character, which is never valid input."
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _api_json_refusal(request: HttpRequest) -> tuple[str, str, int] | None:
    """(code, message, status) when an API write's JSON body is unusable."""
    if request.method not in WRITE_METHODS or request.content_type != "application/json":
        return None
    try:
        raw = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return "too_large", f"The request body is larger than the limit ({limit:,} bytes).", 413
    if not raw.strip():
        return None
    try:
        value = json_loads_bounded(raw.decode(request.encoding or "utf-8"))
    except UnicodeDecodeError:
        return "parse_error", "The body is not valid UTF-8 text.", 400
    except JSONRejected as error:
        return "parse_error", str(error), 400
    if not isinstance(value, dict):
        return "parse_error", "The body must be a JSON object.", 400
    return None


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or _has_nul(request.GET):
            return refusal_response(request, code="nul_character", message=NUL_MESSAGE)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.path.startswith("/api/") and limit and _declared_length(request) > limit:
            return refusal_response(
                request,
                code="too_large",
                message=f"The request body is larger than the limit ({limit:,} bytes).",
                status=413,
            )
        if request.path.startswith("/api/") and (refusal := _api_json_refusal(request)):
            code, message, status = refusal
            return refusal_response(request, code=code, message=message, status=status)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        # CSRF-checked views have their form read by CsrfViewMiddleware anyway;
        # exempt ones (API, webhook, streamed uploads) parse and validate their own.
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        if not request.path.startswith("/api/") and request.content_type not in FORM_TYPES:
            # A page's form comes from a browser, which sends nothing else; a
            # view would read any other body as an empty form and act on it.
            message = "A page accepts a form, not this kind of body."
            return refusal_response(
                request, code="unsupported_media_type", message=message, status=415
            )
        if _has_nul(request.POST):
            return refusal_response(request, code="nul_character", message=NUL_MESSAGE)
        return None


class DatabaseUnavailableMiddleware:
    """A view whose database went away (connection refused, cut, timed out,
    statement cancelled) answers 503 with Retry-After instead of a 500; so
    does one whose work could not be queued (the broker refused, or stayed
    silent past its socket timeout and the publish retries): what it
    committed stays, and the jobs sweeps queue it again.

    Failures inside other middleware reach handler500, which answers the same.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return database_unavailable(request)
        if isinstance(exception, BrokerUnavailable):
            return queue_unavailable(request)
        return None
