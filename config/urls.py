"""The root URLconf: every app's pages, the API, admin, allauth and media."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from marketplace.media import media_serve
from marketplace.views import shell

handler400 = "marketplace.views.shell.bad_request"
handler403 = "marketplace.views.shell.permission_denied"
handler404 = "marketplace.views.shell.page_not_found"
handler500 = "marketplace.views.shell.server_error"

urlpatterns = [
    path("", shell.home, name="home"),
    path("healthz", shell.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("marketplace.api_urls")),
    path("", include("marketplace.site_urls")),
    path("catalog/", include("catalog.urls")),
    path("studio/", include("remixing.urls")),
    path("payouts/", include("royalties.urls")),
    # Every media file goes through its owner's rights check: streamed from
    # local storage, or redirected to a short-lived signed URL on S3.
    re_path(r"^media/(?P<path>.*)$", media_serve, name="media"),
]
