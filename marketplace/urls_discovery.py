"""Discovery pages: remixes, search, artists, the feed, follows, likes, sharing."""

from django.urls import path

from .views import discovery

urlpatterns = [
    path("remixes/", discovery.remixes, name="remixes"),
    path("search/", discovery.search, name="search"),
    path("artists/<int:party_id>/", discovery.artist, name="artist"),
    path("artists/<int:party_id>/follow/", discovery.follow_artist, name="follow_artist"),
    path("people/<str:handle>/follow/", discovery.follow_person, name="follow_person"),
    path("remixes/<str:share_slug>/like/", discovery.like, name="remix_like"),
    path("following/", discovery.feed, name="feed"),
    path("following/notices/read/", discovery.notices_read, name="notices_read"),
    path("s/<str:share_slug>/", discovery.share, name="share"),
    path("embed/remix/<str:share_slug>/", discovery.embed, name="embed"),
]
