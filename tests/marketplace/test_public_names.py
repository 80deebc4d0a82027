"""People by handle: no email address on any page or API response that someone
other than its owner can see.

The crawl seeds the demo, adds what a new fan who never set a name would
publish (the reported case: "Remixed by newfan1@example.com"), then visits,
as a visitor and as a logged-in fan who owns none of it, every page and API
route that takes no or known ids, and every link found on the way.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from catalog.models import Party, Recording
from catalog.selectors import recording_remixability
from marketplace.demo.seed import seed_demo
from marketplace.models import Order
from remixing.models import Remix, StemSet
from tests.fixtures.accounts import UserFactory
from tests.marketplace.audit.conftest import make_remix

pytestmark = pytest.mark.django_db

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Not pages: files, the admin (staff only, and a login form to anyone else),
# the webhook endpoint.
SKIP_PREFIXES = ("/static/", "/media/", "/admin/", "/stripe/")
# Where the signed-in person manages their own login: their address belongs there.
OWN_PAGES = ("/account/", "/accounts/")
TEXT_TYPES = ("text/", "application/json", "application/vnd.oai", "application/yaml")
MAX_REQUESTS = 1500


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name in ("href", "src", "action") or name.endswith("-url")):
                self.links.append(value)


def links_in(body: str, content_type: str) -> list[str]:
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return []
        return [s for s in _strings(data) if s.startswith(("/", "http://testserver/"))]
    parser = _Links()
    parser.feed(body)
    return parser.links


def _strings(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)
    elif isinstance(data, str):
        yield data


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def route_urls() -> list[str]:
    """Every route filled with the demo's real ids (a few of each)."""
    values = {
        "recording_id": list(Recording.objects.values_list("pk", flat=True)),
        "party_id": list(Party.objects.values_list("pk", flat=True)),
        "remix_id": list(Remix.objects.values_list("pk", flat=True)),
        "share_slug": list(Remix.objects.values_list("share_slug", flat=True)),
        "stem_set_id": list(StemSet.objects.values_list("pk", flat=True)[:3]),
        "order_id": list(Order.objects.values_list("pk", flat=True)),
        "fmt": ["mp3", "ogg"],
        "slug": ["clean", "lofi"],
    }
    urls = []
    for route in _routes(get_resolver().url_patterns):
        if "^" in route or "(?P" in route or route.startswith(("admin/", "stripe/")):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if any(name not in values for name in names):
            continue
        for combo in itertools.product(*(values[name] for name in names)):
            url = route
            for value in combo:
                url = re.sub(r"<[^>]+>", str(value), url, count=1)
            urls.append("/" + url)
    return urls


def crawl(client: Client, *, viewer_email: str | None) -> tuple[dict, set[str]]:
    """Visit everything reachable; return {url: [emails found]} and the URLs seen."""
    queue = deque(["/", *route_urls()])
    seen: set[str] = set()
    leaks: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_REQUESTS:
        url = queue.popleft()
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or parts.scheme not in ("", "http"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in seen or parts.path.startswith(SKIP_PREFIXES):
            continue
        seen.add(path)
        response = client.get(path)
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(TEXT_TYPES) or getattr(response, "streaming", False):
            continue
        body = response.content.decode(errors="replace")
        found = set(EMAIL.findall(body))
        if viewer_email and parts.path.startswith(OWN_PAGES):
            found.discard(viewer_email)
        if found:
            leaks[path] = sorted(found)
        if response.status_code in (301, 302) and response.get("Location"):
            queue.append(urljoin(path, response["Location"]))
        queue.extend(urljoin(path, link) for link in links_in(body, content_type))
    return leaks, seen


@pytest.fixture
def demo(settings, tmp_path):
    """The seeded demo, plus remixes published by two fans: one with a name,
    one (the reported case) who signed up and never set one."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    seed_demo(log=lambda _line: None)
    recording = next(
        r for r in Recording.objects.order_by("pk") if recording_remixability(recording=r).remixable
    )
    events = recording_remixability(recording=recording).consent_event_ids
    newfan = UserFactory(email="newfan1@example.com", display_name="")
    make_remix(newfan, recording, events=events, title="Harbour Lights (newfan1 mix)")
    frankie = User.objects.get(email="fan@clearmix.demo")
    make_remix(frankie, recording, events=events, title="Frankie's flip")
    return newfan


def _assert_reached_the_remixer(visited: set[str], newfan) -> None:
    remix = Remix.objects.get(fan=newfan)
    assert reverse("remixing:public_remix", args=[remix.share_slug]) in visited
    assert reverse("marketplace:track_detail", args=[remix.recording_id]) in visited
    assert reverse("catalog-api-track-detail", args=[remix.recording_id]) in visited
    assert reverse("marketplace:person", args=[newfan.handle]) in visited
    assert len(visited) > 40


def test_no_email_on_any_page_or_api_response_for_a_visitor(client, demo):
    leaks, visited = crawl(client, viewer_email=None)
    _assert_reached_the_remixer(visited, demo)
    assert leaks == {}


def test_no_other_persons_email_for_a_logged_in_fan_who_owns_nothing_here(client, demo):
    stranger = UserFactory(email="stranger@example.com", handle="stranger")
    client.force_login(stranger)
    leaks, visited = crawl(client, viewer_email="stranger@example.com")
    _assert_reached_the_remixer(visited, demo)
    assert reverse("marketplace:account") in visited
    assert leaks == {}


def test_the_reported_pages_name_the_remixer_by_handle(client, demo):
    newfan = User.objects.get(email="newfan1@example.com")
    remix = Remix.objects.get(fan=newfan)
    remix_page = client.get(reverse("remixing:public_remix", args=[remix.share_slug]))
    track_page = client.get(reverse("marketplace:track_detail", args=[remix.recording_id]))
    for page in (remix_page, track_page):
        body = page.content.decode()
        assert page.status_code == 200
        assert "newfan1@example.com" not in body
        assert newfan.handle in body
