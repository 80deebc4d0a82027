from django.urls import path

from . import ghost_track_views, views

app_name = "catalog"

urlpatterns = [
    path("artist/", views.artist_home, name="artist_home"),
    path("artist/claim/", views.party_claim, name="party_claim"),
    path("artist/upload/", views.recording_upload, name="recording_upload"),
    path(
        "artist/parties/<int:party_id>/consent/grant/",
        views.consent_grant,
        name="consent_grant",
    ),
    path(
        "artist/parties/<int:party_id>/consent/revoke/",
        views.consent_revoke,
        name="consent_revoke",
    ),
    path("artist/parties/<int:party_id>/terms/", views.consent_terms, name="consent_terms"),
    path(
        "artist/parties/<int:party_id>/history/",
        views.consent_history_page,
        name="consent_history",
    ),
    path("recordings/<int:recording_id>/", views.recording_detail, name="recording_detail"),
    path("recordings/<int:recording_id>/splits/", views.recording_splits, name="recording_splits"),
    path(
        "recordings/<int:recording_id>/takedown/",
        views.recording_takedown,
        name="recording_takedown",
    ),
    path("staff/claims/", views.staff_claims, name="staff_claims"),
    path(
        "staff/ghost-tracks/",
        ghost_track_views.staff_ghost_tracks,
        name="staff_ghost_tracks",
    ),
]
