from django.urls import path

app_name = "remixing"

urlpatterns: list = []
