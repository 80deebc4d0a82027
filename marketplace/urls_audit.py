"""Marketplace audit pages (staff auditors only), namespace "marketplace"."""

from django.urls import path

from .views import audit

urlpatterns = [
    path("audit/", audit.dashboard, name="audit_dashboard"),
    path("audit/anomalies/<slug:kind>/", audit.anomaly_list, name="audit_anomalies"),
    path("audit/remixes/", audit.remix_list, name="audit_remixes"),
    path("audit/remixes/<int:remix_id>/", audit.remix_trail, name="audit_remix_trail"),
    path("audit/records/<slug:key>/<str:pk>/", audit.record_detail, name="audit_record"),
    path("audit/artists/", audit.artist_list, name="audit_artists"),
    path("audit/artists/<int:party_id>/report/", audit.artist_report, name="audit_artist_report"),
    path("audit/log/", audit.audit_log, name="audit_log"),
    path("audit/checks/", audit.check_list, name="audit_checks"),
    path("audit/checks/run/", audit.check_run, name="audit_check_run"),
    path("audit/orders/<int:order_id>/refund/", audit.order_refund, name="audit_order_refund"),
    path(
        "audit/stem-sets/<int:stem_set_id>/retry/",
        audit.stemset_retry,
        name="audit_stemset_retry",
    ),
    path(
        "audit/transfers/<int:transfer_id>/retry/",
        audit.transfer_retry,
        name="audit_transfer_retry",
    ),
]
