"""The auditor's walk: dashboard → an anomaly's evidence → the remix's trail."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.fixtures.accounts import PASSWORD
from tests.fixtures.browser import login

from .conftest import make_paid_order, make_remix

pytestmark = [pytest.mark.browser]


@pytest.fixture
def live_world(transactional_db, world):
    return world


def test_auditor_walks_from_dashboard_to_trail(live_world, auditor, page, artifacts_dir):
    world = live_world
    stuck = make_remix(world.fan, world.recording, events=[world.grant], title="Unsettled remix")
    make_paid_order(world.fan, stuck, paid_at=timezone.now() - timedelta(hours=5))

    login(page, auditor.email, PASSWORD)
    page.get_by_role("link", name="Audit").first.click()
    page.wait_for_url("**/audit/")
    assert page.get_by_test_id("anomaly-total").inner_text() == "1 anomaly"
    section = page.locator('[data-kind="paid_without_settlement"]')
    assert section.get_attribute("data-count") == "1"
    page.screenshot(path=str(artifacts_dir / "audit-dashboard.png"), full_page=True)

    section.get_by_role("link", name=f"Remix #{stuck.pk} trail").click()
    page.wait_for_url(f"**/audit/remixes/{stuck.pk}/")
    assert page.get_by_test_id("trail-title").inner_text() == "Unsettled remix"
    trail = page.get_by_test_id("trail")
    assert trail.get_by_text("Consent granted by Ana Vale").count() >= 1
    assert trail.get_by_text("Paid 5.00").count() + trail.get_by_text("Paid $5.00").count() >= 1
    page.screenshot(path=str(artifacts_dir / "audit-remix-trail.png"), full_page=True)

    # Every item links to its source record: open the consent event.
    trail.get_by_role("link", name=f"Consent event #{world.grant.seq}").first.click()
    page.wait_for_url("**/audit/records/consent-event/**")
    assert page.get_by_role("heading", level=1).inner_text().lower().startswith("consent event")
    page.screenshot(path=str(artifacts_dir / "audit-consent-record.png"), full_page=True)

    # And back to the clean remix: settled, transferred.
    page.goto(f"/audit/remixes/{world.remix.pk}/")
    assert page.get_by_test_id("trail").get_by_text("Transfer").count() >= 2


def test_a_trail_with_stripe_s_long_ids_fits_a_phone(live_world, auditor, page):
    # Probe: a Checkout session id (66 characters, unbroken) widened the remix
    # trail to 671 px on a 390 px phone.
    from marketplace.models import Order
    from tests.fixtures.a11y import offscreen

    world = live_world
    remix = make_remix(world.fan, world.recording, events=[world.grant], title="Long ids")
    order = make_paid_order(world.fan, remix)
    session_id = "cs_test_a1l74QhmsXiaUq0W7si1t4imq4ahWwgnkOi8bWNPzFr9bhCVuibTEqVuPI"
    Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id=session_id)

    page.set_viewport_size({"width": 390, "height": 844})
    login(page, auditor.email, PASSWORD)
    page.goto(f"/audit/remixes/{remix.pk}/")
    assert page.get_by_test_id("trail").get_by_text(session_id).count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert offscreen(page, 390) == []
