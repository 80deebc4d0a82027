"""What every page needs to draw the shell: the navigation for this person."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch

from marketplace.audit.checks import check_alerts
from marketplace.links import page_url


def _link(label: str, name: str) -> dict | None:
    try:
        return {"label": label, "url": page_url(name)}
    except NoReverseMatch:
        return None


def site_shell(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    audit_alerts: list = []
    links = [_link("Browse", "marketplace:catalog"), _link("Remixes", "marketplace:remixes")]
    if user is not None and user.is_authenticated:
        if user.is_fan:
            links += [_link("Following", "marketplace:feed")]
            links += [_link("My remixes", "marketplace:my_remixes")]
            links += [_link("Billing", "marketplace:billing")]
        if user.is_artist:
            links += [_link("My catalog", "catalog:artist_home")]
        if user.is_rights_holder:
            links += [_link("Payouts", "royalties:payouts")]
        if user.is_auditor:
            links += [_link("Audit", "marketplace:audit_dashboard")]

            audit_alerts = check_alerts()  # one query
    else:
        links += [_link("Pricing", "marketplace:pricing")]
    return {"nav_links": [link for link in links if link], "audit_alerts": audit_alerts}
