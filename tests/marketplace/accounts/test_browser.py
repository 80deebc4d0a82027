"""The account page in headless Chromium at phone width (390 px)."""

from __future__ import annotations

import pytest

from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_change_public_name_and_reach_deletion_on_a_phone(page, artifacts_dir):
    UserFactory(email="phone@example.com", handle="phone_fan", display_name="Phone Fan")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "phone@example.com", PASSWORD)
    page.wait_for_url("**/")
    page.locator(".who").click()
    page.wait_for_url("**/account/")
    assert no_sideways_scroll(page)

    page.get_by_label("Handle").fill("Pocket_DJ")
    page.get_by_label("Display name").fill("Pocket DJ")
    page.get_by_role("button", name="Save public name").click()
    assert page.get_by_text("Your public name is saved.").is_visible()
    assert page.locator(".who").inner_text().startswith("Pocket DJ")
    page.screenshot(path=str(artifacts_dir / "account-390.png"), full_page=True)

    page.get_by_label("Handle").fill("admin")
    page.get_by_role("button", name="Save public name").click()
    assert page.get_by_text("That handle is reserved").is_visible()

    page.get_by_role("link", name="Delete my account").click()
    page.wait_for_url("**/account/delete/")
    assert page.get_by_label("Your password").is_visible()
    assert no_sideways_scroll(page)
    page.screenshot(path=str(artifacts_dir / "account-delete-390.png"), full_page=True)
