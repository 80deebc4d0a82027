"""/api/v1/ routes of catalog."""

from django.urls import path

from . import api_views

urlpatterns = [
    path("tracks/", api_views.TrackListApi.as_view(), name="catalog-api-tracks"),
    path(
        "tracks/<int:recording_id>/",
        api_views.TrackDetailApi.as_view(),
        name="catalog-api-track-detail",
    ),
    path(
        "parties/<int:party_id>/consent/",
        api_views.PartyConsentApi.as_view(),
        name="catalog-api-party-consent",
    ),
    path(
        "parties/<int:party_id>/consent/history/",
        api_views.PartyConsentHistoryApi.as_view(),
        name="catalog-api-party-consent-history",
    ),
    path("consent/", api_views.ConsentChangeApi.as_view(), name="catalog-api-consent-change"),
]
