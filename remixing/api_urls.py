"""/api/v1/ routes of remixing."""

from django.urls import path

from . import api, api_covers

urlpatterns = [
    path("remixes/", api.RemixListCreateApi.as_view(), name="remix-list"),
    path("remixes/<int:remix_id>/", api.RemixDetailApi.as_view(), name="remix-detail"),
    path("remixes/<int:remix_id>/recipe/", api.RemixRecipeApi.as_view(), name="remix-recipe"),
    path("remixes/<int:remix_id>/describe/", api.RemixDescribeApi.as_view(), name="remix-describe"),
    path(
        "remixes/<int:remix_id>/takes/", api_covers.CoverTakeListApi.as_view(), name="remix-takes"
    ),
    path(
        "remixes/<int:remix_id>/takes/<str:ref>/",
        api_covers.CoverTakeDetailApi.as_view(),
        name="remix-take",
    ),
    path("remixes/<int:remix_id>/status/", api.RemixStatusApi.as_view(), name="remix-status"),
    path("remixes/<int:remix_id>/stems/", api.RemixStemsApi.as_view(), name="remix-stems"),
    path("remixes/<int:remix_id>/publish/", api.RemixPublishApi.as_view(), name="remix-publish"),
    path(
        "remixes/<int:remix_id>/unpublish/",
        api.RemixUnpublishApi.as_view(),
        name="remix-unpublish",
    ),
    path("remixes/shared/<str:share_slug>/play/", api.RemixPlayApi.as_view(), name="remix-play"),
    path("stem-sets/<int:stem_set_id>/", api.StemSetApi.as_view(), name="stemset-detail"),
    path("remix-presets/", api.PresetListApi.as_view(), name="remix-presets"),
    path(
        "recordings/<int:recording_id>/presets/<slug:slug>/recipe/",
        api.RecordingPresetRecipeApi.as_view(),
        name="recording-preset-recipe",
    ),
    path("remix-notices/", api.NoticeListApi.as_view(), name="remix-notices"),
]
