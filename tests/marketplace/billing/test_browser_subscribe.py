"""A fan subscribes in a real browser: pricing → sandbox hosted page → back, Premium active."""

from __future__ import annotations

import os

import pytest

from marketplace.billing.services.plans import plan_catalog_sync
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.fixtures.stripe import CARD_OK

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# test makes are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


def test_fan_subscribes_to_premium(flushable_db, stripe_live, page, artifacts_dir):
    plan_catalog_sync()
    fan = UserFactory(email="browser-fan@example.com")
    login(page, fan.email, PASSWORD)

    page.goto("/pricing/")
    page.screenshot(path=str(artifacts_dir / "billing-1-pricing.png"), full_page=True)
    page.get_by_test_id("subscribe-premium").click()

    page.wait_for_url(f"{stripe_live.url}/**")
    page.locator("input[name=card_number]").fill(CARD_OK)
    expiry = page.locator("input[name=expiry]")
    if expiry.count():
        expiry.fill("12/34")
    page.screenshot(path=str(artifacts_dir / "billing-2-hosted-checkout.png"), full_page=True)
    page.get_by_role("button", name="Pay").click()

    page.wait_for_url("**/billing/checkout/success/**")
    page.screenshot(path=str(artifacts_dir / "billing-3-confirming.png"), full_page=True)
    page.wait_for_selector("#checkout-status[data-state=active]", timeout=20_000)
    assert page.get_by_role("heading", name="Premium is active").is_visible()
    page.screenshot(path=str(artifacts_dir / "billing-4-active.png"), full_page=True)

    page.goto("/billing/")
    card = page.locator("[data-subscription=premium]")
    assert "Active" in card.inner_text() and "Renews on" in card.inner_text()
    page.screenshot(path=str(artifacts_dir / "billing-5-billing.png"), full_page=True)
