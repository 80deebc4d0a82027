"""Billing pages render and are thin over services/selectors."""

from __future__ import annotations

from marketplace.models import Plan

from .factories import SubscriptionFactory, entitle, plan


def test_pricing_for_anonymous_shows_plans_and_signup(client, db):
    plan(Plan.Code.REMIX_ADDON)
    page = client.get("/pricing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "$9.99" in html and "$4.99" in html and "Sign up to subscribe" in html


def test_pricing_addon_blocked_until_premium(client, fan):
    plan(Plan.Code.REMIX_ADDON)
    client.force_login(fan)
    html = client.get("/pricing/").content.decode()
    assert 'data-testid="subscribe-premium"' in html
    assert "Requires Premium." in html
    assert 'data-code="premium_required"' in html


def test_billing_page_shows_status_renewal_and_toggle(client, fan):
    SubscriptionFactory(user=fan, plan=plan(Plan.Code.PREMIUM))
    client.force_login(fan)
    html = client.get("/billing/").content.decode()
    assert "Renews on" in html and "Cancel at period end" in html
    assert 'data-code="remix_addon_required"' in html


def test_billing_page_when_entitled(client, fan):
    entitle(fan)
    client.force_login(fan)
    assert "You can remix" in client.get("/billing/").content.decode()


def test_subscribe_requires_login_and_post(client, fan):
    assert client.post("/billing/subscribe/premium/").status_code == 302
    client.force_login(fan)
    assert client.get("/billing/subscribe/premium/").status_code == 405


def test_addon_checkout_refused_without_premium(client, fan):
    plan(Plan.Code.REMIX_ADDON)
    client.force_login(fan)
    response = client.post("/billing/subscribe/remix_addon/", follow=True)
    assert b"requires an active Premium subscription" in response.content


def test_checkout_status_of_unknown_session_is_404(client, fan):
    client.force_login(fan)
    response = client.get("/billing/checkout/status/?session_id=cs_nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
