"""The site shell: navigation by role, health, error pages, no external assets."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.fixtures.accounts import UserFactory

pytestmark = pytest.mark.django_db


def nav_labels(response) -> list[str]:
    html = response.content.decode()
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)
    return [label.strip() for label in re.findall(r"<a [^>]*>([^<]+)</a>", nav)]


@pytest.mark.parametrize(
    ("roles", "present", "absent"),
    [
        ({}, ["Browse", "Pricing"], ["Payouts", "Audit", "My catalog"]),
        ({"is_fan": True}, ["Browse", "My remixes", "Billing"], ["Payouts", "Audit", "Pricing"]),
        ({"is_fan": False, "is_artist": True}, ["My catalog", "Payouts"], ["Audit", "Billing"]),
        ({"is_fan": False, "is_songwriter": True}, ["Payouts"], ["My catalog", "Audit"]),
        ({"is_fan": False, "is_auditor": True}, ["Audit"], ["Payouts", "My catalog"]),
        (
            {"is_fan": True, "is_artist": True, "is_songwriter": True},
            ["My remixes", "My catalog", "Payouts"],
            ["Audit"],
        ),
    ],
)
def test_navigation_adapts_to_roles(client, roles, present, absent):
    if roles:
        client.force_login(UserFactory(**roles))
    labels = nav_labels(client.get("/"))
    for label in present:
        assert label in labels
    for label in absent:
        assert label not in labels


def test_home_page_is_styled_from_local_static(client):
    html = client.get("/").content.decode()
    assert "/static/css/clearmix.css" in html
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == []


def test_healthz_reports_database_broker_storage_and_separation(client):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert set(body["checks"]) == {"database", "broker", "storage", "separation"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["storage"]["ok"] is True
    assert response.status_code == (200 if body["status"] == "ok" else 503)


def test_healthz_shows_when_each_queue_last_had_a_worker(client):
    """A worker that forgot the `paid` queue takes no payment's work: /healthz
    shows each queue's last heartbeat, so that shows as `paid` going quiet."""
    from marketplace.heartbeat import heartbeat_record
    from tests.fixtures.redis_db import cache_clear_own

    cache_clear_own()
    heartbeat_record(queue="default")
    broker = client.get(reverse("healthz")).json()["checks"]["broker"]
    assert broker["last_worker_heartbeat"]["paid"] is None
    assert broker["last_worker_heartbeat"]["default"] is not None
    heartbeat_record(queue="paid")
    broker = client.get(reverse("healthz")).json()["checks"]["broker"]
    assert all(broker["last_worker_heartbeat"][queue] for queue in ("paid", "default"))


def test_healthz_names_the_separation_backends(client, settings, tmp_path):
    settings.SEPARATION_BACKEND = "auto"
    settings.DEMUCS_MODEL = "htdemucs"
    settings.DEMUCS_MODEL_REPO = str(tmp_path)  # no weights installed
    separation = client.get(reverse("healthz")).json()["checks"]["separation"]
    assert separation["ok"] is True
    assert separation["selected"]["backend"] == "embedded"
    assert separation["backends"]["demucs"]["available"] is False
    settings.SEPARATION_BACKEND = "demucs"  # demanded but not installed: degraded
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert "no local weights" in response.json()["checks"]["separation"]["error"]


def test_healthz_says_degraded_when_the_broker_is_down(client, settings):
    from celery import current_app as app  # the app /healthz checks

    # Both addresses: a write address (which publishing and this check prefer)
    # must not keep pointing at a broker that is up.
    original = app.conf.broker_url, app.conf.get("broker_write_url")
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get(reverse("healthz"))
    finally:
        app.conf.broker_url, app.conf.broker_write_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["ok"] is False


def test_404_page_is_in_the_site_style(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "find that page" in html
    assert "clearmix.css" in html


def test_500_page_is_in_the_site_style():
    from django.test import RequestFactory

    from marketplace.views.shell import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
