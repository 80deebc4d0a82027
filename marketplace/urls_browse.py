"""Marketplace browse pages and the fan's own remix pages."""

from django.urls import path

from .views import browse, fan

urlpatterns = [
    path("tracks/", browse.catalog, name="catalog"),
    path("tracks/<int:recording_id>/", browse.track_detail, name="track_detail"),
    path("my/remixes/", fan.my_remixes, name="my_remixes"),
    path("my/remixes/notices/read/", fan.notices_mark_read, name="remix_notices_read"),
    path("my/remixes/<int:remix_id>/", fan.my_remix, name="my_remix"),
    path("my/remixes/<int:remix_id>/export/", fan.remix_export, name="remix_export"),
    path("my/remixes/<int:remix_id>/publish/", fan.remix_publish, name="remix_publish"),
    path("my/remixes/<int:remix_id>/unpublish/", fan.remix_unpublish, name="remix_unpublish"),
    path(
        "my/remixes/<int:remix_id>/takes/<str:ref>/delete/",
        fan.remix_take_delete,
        name="remix_take_delete",
    ),
    path(
        "my/remixes/<int:remix_id>/download/<str:fmt>/",
        fan.remix_download,
        name="remix_download",
    ),
]
