from django.urls import path

from . import views

app_name = "remixing"

urlpatterns = [
    path("tracks/<int:recording_id>/", views.studio_start, name="studio_start"),
    path("remixes/<int:remix_id>/", views.studio, name="studio"),
    path("r/<str:share_slug>/", views.public_remix, name="public_remix"),
    path("r/<str:share_slug>/", views.public_remix, name="shared"),
    path("r/<str:share_slug>/fork/", views.remix_fork, name="remix_fork"),
    path("remixes/<int:remix_id>/forks/", views.remix_forks_allow, name="remix_forks_allow"),
]
