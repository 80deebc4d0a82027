"""/api/v1/: each app contributes its API routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("catalog.api_urls")),
    path("", include("remixing.api_urls")),
]
