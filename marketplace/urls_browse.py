"""Marketplace browse pages."""

from django.urls import path

from .views import browse

urlpatterns = [
    path("tracks/", browse.catalog, name="catalog"),
    path("tracks/<int:recording_id>/", browse.track_detail, name="track_detail"),
]
