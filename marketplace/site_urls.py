"""Marketplace pages, namespace "marketplace"; each area keeps its own list."""

from .urls_account import urlpatterns as account_urls
from .urls_audit import urlpatterns as audit_urls
from .urls_billing import urlpatterns as billing_urls
from .urls_browse import urlpatterns as browse_urls
from .urls_discovery import urlpatterns as discovery_urls

app_name = "marketplace"

urlpatterns = [*browse_urls, *discovery_urls, *billing_urls, *audit_urls, *account_urls]
