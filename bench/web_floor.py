"""The Django floor for bench/web.py: a view that returns a constant, served
through the project's own settings, WSGI handler and middleware stack.

    gunicorn bench.web_floor:application     (DJANGO_SETTINGS_MODULE set)
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path


def constant(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("floor/", constant), path("", constant)]

# The same settings and middleware as the site; only the URLs are this module's.
settings.ROOT_URLCONF = __name__
application = get_wsgi_application()
