"""Content-Security-Policy: on every response, scripts only from our files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marketplace.csp import content_security_policy

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def _directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_the_policy_allows_no_inline_script_no_eval_and_no_other_origin():
    policy = _directives(content_security_policy(nonce="abc"))
    assert policy["script-src"] == "'self' 'nonce-abc'"
    assert "unsafe-eval" not in policy["script-src"]
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["media-src"].startswith("'self' blob:")  # the studio's Web Audio
    assert policy["connect-src"].startswith("'self'")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/tracks/", "/pricing/", "/accounts/login/", "/api/docs/", "/media/x", "/nope/"]
)
def test_every_response_carries_the_policy_with_a_fresh_nonce(client, url):
    first, second = client.get(url), client.get(url)
    assert "script-src 'self' 'nonce-" in first["Content-Security-Policy"]
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]


@pytest.mark.django_db
def test_api_docs_start_swagger_from_a_file_not_an_inline_script(client):
    html = client.get("/api/docs/").content.decode()
    assert all("src=" in attrs for attrs in SCRIPT_TAG.findall(html))


def test_no_template_has_an_inline_script():
    inline = []
    for template in (ROOT / "templates").rglob("*.html"):
        for attrs in SCRIPT_TAG.findall(template.read_text()):
            if "src=" not in attrs and "application/json" not in attrs:
                inline.append(str(template.relative_to(ROOT)))
    assert not inline, "move these scripts to static/js/ (or use nonce={{ csp_nonce }})"
