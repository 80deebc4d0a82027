from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .media import media_serve
from .views import shell

handler404 = "marketplace.views.shell.page_not_found"
handler500 = "marketplace.views.shell.server_error"

urlpatterns = [
    path("", shell.home, name="home"),
    path("healthz", shell.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("marketplace.api_urls")),
    path("", include("marketplace.site_urls")),
    path("catalog/", include("catalog.urls")),
    path("studio/", include("remixing.urls")),
    path("payouts/", include("royalties.urls")),
]

if settings.SERVE_MEDIA:
    # Local media (the demo and tests); production serves media from S3.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", media_serve, name="media"),
    ]
