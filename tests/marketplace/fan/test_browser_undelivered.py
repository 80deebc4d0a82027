"""The fan's view, in headless Chromium, when a remix cannot be delivered:
a failed separation keeps Export closed and says why; a paid remix that
failed for good shows its refund in plain words, never "Failed 0%"."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from marketplace.models import Order
from remixing.models import Remix
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle, make_remix

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


def _fan():
    from tests.fixtures.accounts import UserFactory

    fan = UserFactory(is_fan=True, password=PASSWORD)
    entitle(fan)
    return fan


def test_export_stays_closed_while_the_stems_could_not_be_made(page, artifacts_dir):
    fan = _fan()
    remix = make_remix(owner=fan, stems="failed")
    login(page, fan.email, PASSWORD)
    page.goto(f"/my/remixes/{remix.pk}/")
    assert page.get_by_test_id("export").count() == 0
    why = page.get_by_test_id("export-why")
    assert "could not prepare this track's stems yet" in why.inner_text()
    assert "retry automatically" in why.inner_text()
    page.goto(f"/studio/remixes/{remix.pk}/")
    export = page.get_by_test_id("export")
    assert export.is_disabled()
    assert "cannot be exported" in page.locator("#export-why").inner_text()
    page.screenshot(path=str(artifacts_dir / "undelivered-01-studio.png"), full_page=True)
    assert not Order.objects.exists()


def test_a_refunded_remix_reads_as_refunded(page, artifacts_dir):
    fan = _fan()
    remix = make_remix(owner=fan)
    Remix.objects.filter(pk=remix.pk).update(
        status=Remix.Status.FAILED, stage="Failed", error="Rendering failed: OSError: disk"
    )
    order = Order.objects.create(
        fan=fan, remix=remix, amount_cents=299, currency="usd", transfer_group="g"
    )
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.REFUNDED,
        paid_at=timezone.now(),
        refunded_cents=299,
        refunded_at=timezone.now(),
        refund_reason="We could not make your remix after several tries, so your payment "
        "was refunded in full.",
    )
    login(page, fan.email, PASSWORD)
    page.goto(f"/my/remixes/{remix.pk}/")
    body = page.locator("main").inner_text()
    assert "We could not make this remix." in body
    assert "Your payment of $2.99 was refunded in full" in body
    assert "Failed 0%" not in body and "OSError" not in body
    assert not page.locator("[data-render-progress]").is_visible()
    page.screenshot(path=str(artifacts_dir / "undelivered-02-refunded.png"), full_page=True)
