"""Every page escapes what people typed.

Every piece of text a person can put on the site — display names, party
names, track, work and remix titles, genre, mood and key, consent reasons,
staff reasons — holds an XSS payload. Then each role visits every page of the
route table (tests/marketplace/test_route_role_matrix.py) and every page
linked from them, and no HTML response may carry a payload unescaped. The
sweep must also see the escaped payloads (on enough pages), so a crawl that
never reached them cannot pass.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve

from accounts.models import User
from catalog.models import ConsentEvent, Party, Recording, Work
from catalog.services import consent_grant
from remixing.models import Remix
from tests.fixtures.shared_world import clients_for, session_keys
from tests.marketplace.test_public_names import links_in
from tests.marketplace.test_route_role_matrix import GET, MATRIX, ROLES, SAMPLES, _url, _world

pytestmark = pytest.mark.django_db

PAYLOADS = (
    '<script>alert("xss1")</script>',
    '"><img src=x onerror=alert("xss2")>',
    "'onmouseover='alert(3)' x='",
    "</title><svg/onload=alert(4)>",
)
# What must never appear in an HTML response: each payload's live markup.
LIVE = re.compile(r"<script>alert\(|<img src=x onerror|'onmouseover='|<svg/onload")
ESCAPED = "&lt;script&gt;alert(&quot;xss1&quot;)&lt;/script&gt;"
# Data for scripts (Django's json_script): text there is JSON, never markup, as long as
# no "<" can end the block early, which json_script guarantees by escaping it.
DATA_BLOCK = re.compile(r'<script id="[^"]*" type="application/json">(.*?)</script>', re.S)
SKIP_PREFIXES = ("/static/", "/media/", "/admin/", "/stripe/", "/accounts/logout")
MAX_PAGES_PER_ROLE = 80


def _text(n: int) -> str:
    return f"Name {n} {PAYLOADS[n % len(PAYLOADS)]}"


def _poison(things: dict) -> None:
    """Put a payload in every text a person can write."""
    for n, user in enumerate(User.objects.all()):
        User.objects.filter(pk=user.pk).update(display_name=_text(n)[:80])
    for n, party in enumerate(Party.objects.all()):
        Party.objects.filter(pk=party.pk).update(name=_text(n + 1))
    # The key field holds 16 characters: a payload that fits.
    Recording.objects.update(
        title=_text(2), genre=_text(3)[:60], mood=[_text(0)], key="<svg/onload=a()>"
    )
    Work.objects.update(title=_text(3))
    Remix.objects.update(title=_text(0))
    party = Party.objects.get(pk=things["party_id"])
    recording = Recording.objects.get(pk=things["recording_id"])
    event = consent_grant(party=party, actor=party.user, recording=recording, reason=_text(1))
    assert ConsentEvent.objects.filter(pk=event.pk, reason__contains="xss2").exists()


def _pages(client, start: list[str]) -> list[tuple[str, str]]:
    """(url, html) of the pages this client reaches from `start`."""
    queue, seen, pages = deque(start), set(), []
    while queue and len(pages) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or parts.path.startswith(SKIP_PREFIXES):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in seen:
            continue
        seen.add(path)
        try:
            resolve(parts.path)
        except Resolver404:
            continue
        response = client.get(path)
        content_type = response.get("Content-Type", "")
        if getattr(response, "streaming", False) or response.status_code != 200:
            continue
        body = response.content.decode(errors="replace")
        if content_type.startswith("text/html"):
            pages.append((path, body))
        queue.extend(urljoin(path, link) for link in links_in(body, content_type))
    return pages


@pytest.fixture
def poisoned(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    things, users = _world()
    clients = clients_for(session_keys(users))
    _poison(things)
    return things, clients


def test_no_page_renders_a_payload_as_markup(poisoned):
    things, clients = poisoned
    start = [
        _url(route, things)
        for route, (method, _) in MATRIX.items()
        if method == GET and route not in SAMPLES
    ]
    live, escaped_on = [], set()
    for role in ROLES:
        for path, page in _pages(clients[role], start):
            data = DATA_BLOCK.findall(page)
            live += [f"{role} {path}: a raw '<' in a data block" for d in data if "<" in d]
            body = DATA_BLOCK.sub("<script data-block></script>", page)
            for match in LIVE.finditer(body):
                live.append(
                    f"{role} {path}: …{body[max(0, match.start() - 60) : match.end() + 20]}…"
                )
            if ESCAPED in page:
                escaped_on.add(path)
    assert live == [], "\n".join(live[:20])
    # The crawl reached the poisoned text: the track, remix, people and audit pages.
    assert len(escaped_on) >= 8, sorted(escaped_on)
