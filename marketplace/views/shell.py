"""Site shell views: home, health, error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marketplace.health import health_report


def home(request: HttpRequest) -> HttpResponse:
    from marketplace.home import home_context

    return render(request, "marketplace/home.html", home_context(request))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors that could fail again: a plain, styled page.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render({}), status=500)
