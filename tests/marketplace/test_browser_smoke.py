"""End-to-end smoke test in headless Chromium: home page, log in as the demo fan."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from marketplace.demo.catalog_data import DEMO_PASSWORD
from tests.fixtures.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_and_demo_fan_login(page, artifacts_dir):
    call_command("seed_demo")
    page.goto("/")
    assert page.get_by_role("heading", name="Tracks you can remix").is_visible()
    assert page.locator(".track-card").count() >= 3
    page.screenshot(path=str(artifacts_dir / "smoke-01-home.png"), full_page=True)

    login(page, "fan@clearmix.demo", DEMO_PASSWORD)
    page.wait_for_url("**/")
    assert page.locator(".who").inner_text().startswith("Frankie Fan")
    assert page.get_by_text("Successfully signed in as Frankie Fan").is_visible()
    assert page.get_by_role("link", name="My remixes").is_visible()
    page.screenshot(path=str(artifacts_dir / "smoke-02-logged-in.png"), full_page=True)
