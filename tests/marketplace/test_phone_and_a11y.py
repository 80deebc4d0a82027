"""Every page of each role at a phone's width (390 px), checked by axe-core.

One seeded demo serves every role (a visitor, the fan, an artist, the
songwriter, the auditor). For each, the pages that role can open are found
with Django's test client (every route filled with the demo's ids, and every
link found on the way, a couple of URLs per route), then visited in headless
Chromium at 390 px:

- the page does not scroll sideways (``scrollWidth <= 390``), and every
  visible action (button, link, form control) and table cell lies within the
  screen's width: nothing hides in a sideways scroller;
- axe-core finds no violation of impact "serious" or "critical" (the others
  are written to ``test-artifacts/phone-a11y.json``).

A second test settles a real sale and checks the holder's payouts at 390 px:
the amount and status of each line are on screen. axe-core is evaluated into
the page by Playwright (tests/fixtures/a11y.py), never served by the site.
Set ``PHONE_SCREENSHOTS=1`` for a screenshot of every page.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from accounts.models import User
from catalog.models import Recording
from catalog.selectors import recording_remixability
from marketplace.billing.fulfilment import order_settle
from marketplace.billing.services.orders import order_checkout_start
from marketplace.demo.catalog_data import DEMO_PASSWORD
from tests.fixtures.a11y import (
    FAIL_IMPACTS,
    axe_preload,
    axe_violations,
    duplicate_ids,
    offscreen,
    serious,
)
from tests.fixtures.accounts import UserFactory
from tests.fixtures.browser import CspWatch, login
from tests.marketplace.audit.conftest import make_remix
from tests.marketplace.billing.factories import entitle
from tests.marketplace.billing.factories import make_remix as billing_make_remix
from tests.marketplace.test_money_end_to_end import URLS
from tests.marketplace.test_public_names import links_in, route_urls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ROLES = {
    "visitor": None,
    "fan": "fan@clearmix.demo",
    "artist": "artist@clearmix.demo",
    "songwriter": "songwriter@clearmix.demo",
    "auditor": "auditor@clearmix.demo",
}
# Not pages a person reads: files, the admin, the webhook, the API and its docs,
# and the log-out confirmation (visiting it is harmless, but the crawl stays logged in).
SKIP_PREFIXES = (
    "/static/",
    "/media/",
    "/admin/",
    "/stripe/",
    "/api/",
    "/healthz",
    "/accounts/logout",
)
PER_ROUTE = 2
MAX_PAGES = 60


def _html_pages(client: Client) -> list[str]:
    """The pages this client can open (200, HTML), a few per route."""
    queue = deque(["/", *route_urls()])
    seen: set[str] = set()
    per_route: dict[str, int] = {}
    pages: list[str] = []
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or parts.scheme not in ("", "http"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in seen or parts.path.startswith(SKIP_PREFIXES):
            continue
        seen.add(path)
        try:
            route = resolve(parts.path).route
        except Resolver404:
            continue
        if per_route.get(route, 0) >= PER_ROUTE:
            continue
        response = client.get(path)
        content_type = response.get("Content-Type", "")
        if response.status_code in (301, 302) and response.get("Location"):
            queue.append(urljoin(path, response["Location"]))
            continue
        if response.status_code != 200 or not content_type.startswith("text/html"):
            continue
        if getattr(response, "streaming", False):
            continue
        per_route[route] = per_route.get(route, 0) + 1
        pages.append(path)
        queue.extend(
            urljoin(path, link) for link in links_in(response.content.decode(), content_type)
        )
    return pages


def _fan_with_a_published_remix() -> None:
    """The demo fan as the seed leaves them with the sandbox running: Premium
    and the Remix add-on, and a published remix (its share page, its studio)."""
    fan = User.objects.get(email="fan@clearmix.demo")
    entitle(fan)
    recording = next(
        r for r in Recording.objects.order_by("pk") if recording_remixability(recording=r).remixable
    )
    events = recording_remixability(recording=recording).consent_event_ids
    make_remix(fan, recording, events=events, title="Frankie's flip")


def _visit_as(browser, base_url: str, role: str, email: str | None, pages: list[str], out):
    """Visit `pages` as `role` at 390 px; return the problems and the moderate findings."""
    context = browser.new_context(base_url=base_url, viewport=PHONE)
    context.set_default_timeout(15_000)
    axe_preload(context)
    page = context.new_page()
    csp = CspWatch(base_url)
    page.on("console", csp.on_console)
    page.on("response", csp.on_response)
    problems: list[str] = []
    moderate: dict[str, set[str]] = {}
    try:
        if email:
            login(page, email, DEMO_PASSWORD)
            page.wait_for_url(lambda url: "/accounts/login" not in url)
        # The page after logging in carries a message; then every page.
        for path in ([None] if email else []) + pages:
            if path is None:
                path = "(after log-in) " + page.url.removeprefix(base_url)
            else:
                page.goto(path, wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                problems.append(f"{role} {path}: page is {width} px wide")
            problems += [
                f"{role} {path}: off-screen {item}" for item in offscreen(page, PHONE["width"])
            ]
            problems += [f"{role} {path}: duplicate id {item}" for item in duplicate_ids(page)]
            for violation in axe_violations(page):
                if violation["impact"] in FAIL_IMPACTS:
                    problems.append(
                        f"{role} {path}: axe {violation['impact']} {violation['id']} "
                        f"({violation['help']}) x{violation['count']}: {violation['nodes']}"
                    )
                else:
                    key = f"{violation['impact']} {violation['id']}"
                    moderate.setdefault(key, set()).add(path)
            if os.environ.get("PHONE_SCREENSHOTS"):
                name = re.sub(r"[^A-Za-z0-9=-]+", "_", path).strip("_") or "home"
                page.screenshot(path=str(out / f"phone-{role}-{name}.png"), full_page=True)
    finally:
        context.close()
    problems += [f"{role}: {problem}" for problem in csp.problems()]
    return problems, moderate


def test_every_page_of_every_role_fits_a_phone_and_passes_axe(
    browser, live_server, settings, tmp_path, artifacts_dir
):
    # One seeded demo for all roles (seeding is the slow part).
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Paths differ per machine (CI checks out deep): a long one must wrap, not
    # widen the auditor's dashboard, where the weights folder is shown.
    settings.DEMUCS_MODEL_REPO = "/srv/ci/checkouts/clearmix-0123456789abcdef/var/models/demucs"
    # No Stripe here: the crawl's payout-onboarding links fail at once (refused)
    # and redirect with their message, without the SDK's retries and backoff.
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    call_command("seed_demo", verbosity=0)
    _fan_with_a_published_remix()

    problems: list[str] = []
    report: dict[str, dict] = {}
    account_pages_done = False
    for role, email in ROLES.items():
        client = Client()
        if email:
            client.force_login(User.objects.get(email=email))
        pages = _html_pages(client)
        assert len(pages) >= 5, (role, pages)
        if email and account_pages_done:
            # The log-in management pages (allauth) are the same for every
            # signed-in person: checked once, as the first role.
            pages = [p for p in pages if not p.startswith("/accounts/")]
        account_pages_done = account_pages_done or bool(email)
        found, moderate = _visit_as(browser, live_server.url, role, email, pages, artifacts_dir)
        problems += found
        report[role] = {"pages": pages, "moderate": {k: sorted(v) for k, v in moderate.items()}}
    (artifacts_dir / "phone-a11y.json").write_text(json.dumps(report, indent=1))
    assert problems == [], "\n".join(problems)


def test_payouts_with_sales_show_amount_and_status_on_a_phone(
    page, live_server, settings, stripe_plans, stripe_events, transactional_db
):
    # Found: on payouts the amount and status columns hid inside sideways-
    # scrolling tables. A settled sale, the holder's dashboard at 390 px.
    fan = UserFactory(is_fan=True, display_name="Frankie Fan")
    entitle(fan)
    stripe_events.skip()
    remix = billing_make_remix(owner=fan)
    order = order_checkout_start(fan=fan, remix=remix, **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()
    order.refresh_from_db()
    order_settle(order=order)
    artist = remix.master_split_version.shares.get().party
    # Signed in as the artist by session cookie (this artist has no verified address).
    client = Client()
    client.force_login(artist.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])

    page.set_viewport_size(PHONE)
    page.goto(f"/payouts/party/{artist.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert offscreen(page, PHONE["width"]) == []
    for label in ("Amount", "Status", "Remix"):
        cell = page.locator(f"td[data-label={label}]").first
        box = cell.bounding_box()
        assert cell.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert serious(axe_violations(page)) == []
