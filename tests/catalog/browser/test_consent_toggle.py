"""An artist toggles consent in the browser and the track's remixability
changes at once, for the artist and on the public track page."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from catalog.models import Recording
from marketplace.demo.catalog_data import DEMO_PASSWORD
from tests.fixtures.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_artist_revokes_then_grants_consent_for_one_track(page, artifacts_dir):
    call_command("seed_demo")
    track = Recording.objects.get(title="Neon Tide")
    login(page, "artist@clearmix.demo", DEMO_PASSWORD)
    page.wait_for_url("**/")

    page.goto(f"/tracks/{track.pk}/")
    assert page.get_by_text("Remixable", exact=True).is_visible()

    page.goto("/catalog/artist/")
    row = page.locator(f"#recording-{track.pk}")
    row.get_by_role("link", name="Revoke… Neon Tide").click()
    page.wait_for_url("**/consent/revoke/**")
    assert page.get_by_role("heading", name="Revoke remix consent for “Neon Tide”?").is_visible()
    page.screenshot(path=str(artifacts_dir / "consent-01-confirm-revoke.png"), full_page=True)
    page.get_by_role("button", name="Yes, revoke consent").click()
    page.wait_for_url("**/catalog/artist/**")
    row = page.locator(f"#recording-{track.pk}")
    assert "Nova Lane has revoked consent for this recording" in row.inner_text()
    page.screenshot(path=str(artifacts_dir / "consent-02-revoked.png"), full_page=True)

    # The public page says so at once, with the reason.
    page.goto(f"/tracks/{track.pk}/")
    assert page.get_by_text("Not remixable right now.").is_visible()
    assert page.get_by_text("Nova Lane has revoked consent for this recording").is_visible()

    page.goto("/catalog/artist/")
    page.locator(f"#recording-{track.pk}").get_by_role(
        "button", name="Allow remixes of Neon Tide"
    ).click()
    page.wait_for_url("**/catalog/artist/**")
    page.goto(f"/tracks/{track.pk}/")
    assert page.get_by_text("Remixable", exact=True).is_visible()
    call_command("verify_consent_chain")
