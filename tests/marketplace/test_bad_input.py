"""The site-wide refusals (marketplace.middleware, the error handlers): NUL
anywhere in a path, query or form is a 400; an API body over the limit is a
413; every API error, even one Django raises itself, is in the one shape."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _shape(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.mark.parametrize("url", ["/tracks/?q=a%00b", "/tracks/%00/", "/studio/r/a%00b/"])
def test_nul_in_a_page_url_is_a_400_page(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/api/v1/tracks/?q=a%00b", "/api/v1/remixes/shared/a%00b/play/", "/api/v1/%00"]
)
def test_nul_in_an_api_url_is_a_400_in_the_error_shape(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert _shape(response)["code"] == "nul_character"


def test_nul_in_a_posted_form_is_400(client, fan):
    client.force_login(fan)
    response = client.post("/my/remixes/notices/read/", {"notice": "1\x00"})
    assert response.status_code == 400


def test_unknown_api_url_is_404_in_the_error_shape(client):
    for url in ("/api/v1/nope/", "/api/v1/remixes/abc/", "/api/v1/tracks/-1/"):
        response = client.get(url)
        assert response.status_code == 404
        assert _shape(response)["code"] == "not_found"


def test_unknown_page_is_still_the_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "couldn't find that page" in response.content.decode()


def test_api_body_over_the_limit_is_413_before_parsing(fan, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    client = Client()
    client.force_login(fan)
    response = client.post(
        "/api/v1/remix-notices/", "x" * 1_000, content_type="application/octet-stream"
    )
    assert response.status_code == 413
    assert _shape(response)["code"] == "too_large"


def test_page_form_over_the_limit_is_a_413_page(fan, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    client = Client()
    client.force_login(fan)
    response = client.post("/my/remixes/notices/read/", {"notice": "1" * 1_000})
    assert response.status_code == 413
    assert "larger than the limit" in response.content.decode()


def test_unsupported_api_media_type_is_415_in_the_error_shape(fan):
    client = Client()
    client.force_login(fan)
    response = client.post("/api/v1/remix-notices/", "ids", content_type="text/plain")
    assert response.status_code == 415
    _shape(response)
