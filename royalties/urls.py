from django.urls import path

from . import views

app_name = "royalties"

urlpatterns = [
    path("", views.payouts, name="payouts"),
    path("party/<int:party_id>/", views.party_detail, name="party"),
    path("party/<int:party_id>/statement.csv", views.statement_csv, name="statement"),
    path("party/<int:party_id>/connect/", views.connect_start, name="connect"),
    path("party/<int:party_id>/connect/return/", views.connect_return, name="connect-return"),
    path("party/<int:party_id>/connect/refresh/", views.connect_refresh, name="connect-refresh"),
]
