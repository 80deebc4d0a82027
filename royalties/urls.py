from django.urls import path

app_name = "royalties"

urlpatterns: list = []
