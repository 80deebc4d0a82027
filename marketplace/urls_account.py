"""The signed-in person's account pages (email and password: allauth's), and
people's public pages."""

from django.urls import path

from .views import account

urlpatterns = [
    path("account/", account.account, name="account"),
    path("account/delete/", account.account_delete, name="account_delete"),
    path("people/<str:handle>/", account.person, name="person"),
]
