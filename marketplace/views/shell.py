"""Site shell views: home, health, error pages."""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marketplace.api_errors import error_json
from marketplace.health import health_report
from marketplace.home import home_context


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplace/home.html", home_context(request))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def refusal_response(
    request: HttpRequest, *, code: str, message: str, status: int = 400
) -> HttpResponse:
    """Refused input: the API's one error shape under /api/, a page elsewhere."""
    if _is_api(request):
        return error_json(code=code, message=message, status_code=status)
    return render(request, "400.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: Django refused the request itself (body too big, bad host...)."""
    if isinstance(exception, RequestDataTooBig):
        limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}"
        message = f"The request body is larger than the limit ({limit} bytes)."
        return refusal_response(request, code="too_large", message=message, status=413)
    return refusal_response(request, code="bad_request", message="The request is malformed.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        message = "You do not have permission to do this."
        return error_json(code="permission_denied", message=message, status_code=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return error_json(code="not_found", message="Not found.", status_code=404)
    return render(request, "404.html", status=404)


DATABASE_UNAVAILABLE_MESSAGE = (
    "Clearmix can't reach its database right now. Please try again in a minute."
)
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


QUEUE_UNAVAILABLE_MESSAGE = (
    "Clearmix can't reach its job queue right now. What was saved stays saved and "
    "its work starts on its own when the queue is back; please try again in a minute."
)


def service_unavailable(request: HttpRequest, *, code: str, message: str) -> HttpResponse:
    """503 while a service we depend on is away: plain words, Retry-After, no
    query of its own (no context processors: they would ask the database again)."""
    if _is_api(request):
        response: HttpResponse = error_json(code=code, message=message, status_code=503)
    else:
        page = loader.get_template("503.html").render({"message": message})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(settings.DATABASE_UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def database_unavailable(request: HttpRequest) -> HttpResponse:
    return service_unavailable(
        request, code="database_unavailable", message=DATABASE_UNAVAILABLE_MESSAGE
    )


def queue_unavailable(request: HttpRequest) -> HttpResponse:
    """503 when work could not be queued (the broker is away or silent): the
    rows were committed first, and the sweeps queue their jobs again."""
    return service_unavailable(request, code="queue_unavailable", message=QUEUE_UNAVAILABLE_MESSAGE)


def server_error(request: HttpRequest) -> HttpResponse:
    # handler500 runs inside the except block: a database that went away
    # while a middleware (sessions, auth) used it is a 503, not a 500.
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    if _is_api(request):
        message = "Something went wrong on our side. Please try again in a moment."
        return error_json(code="server_error", message=message, status_code=500)
    # No context processors that could fail again: a plain, styled page.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
