"""Media on S3: private objects, and only short-lived signed URLs, each made
after the owning row's rights check. S3 cannot be reached here; signing is
local, so the settings and the redirects are what is tested."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils.timezone import now

from marketplace.csp import content_security_policy
from remixing.models import Remix
from tests.config.test_settings import GOOD_KEY, run_manage
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import make_remix

S3_ENV = {
    "AWS_STORAGE_BUCKET_NAME": "clearmix-media",
    "AWS_S3_REGION_NAME": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00",
    "AWS_SECRET_ACCESS_KEY": "example-secret-example-secret-example-00",
}

PROBE = """
import json
from django.conf import settings
from django.core.files.storage import default_storage
print(json.dumps({
    "backend": settings.STORAGES["default"]["BACKEND"],
    "options": settings.STORAGES["default"]["OPTIONS"],
    "url": default_storage.url("catalog/recordings/master.flac"),
    "media_origins": settings.CSP_MEDIA_ORIGINS,
}))
"""


def test_production_s3_objects_are_private_and_urls_signed_and_short_lived():
    result = run_manage(
        "shell",
        "-c",
        PROBE,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="clearmix.example",
        **S3_ENV,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["backend"] == "storages.backends.s3.S3Storage"
    options = probe["options"]
    assert options["default_acl"] in (None, "private")  # never public-read
    assert options["querystring_auth"] is True
    assert options["custom_domain"] is None  # a custom domain would drop the signature
    assert options["querystring_expire"] <= 300
    query = parse_qs(urlsplit(probe["url"]).query)
    assert "X-Amz-Signature" in query
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert "https://clearmix-media.s3.eu-west-1.amazonaws.com" in probe["media_origins"]


@pytest.fixture
def s3(settings, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, S3_ENV[key])
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "clearmix-media",
                "endpoint_url": "https://s3.example.test",
                "region_name": "eu-west-1",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 60,
                "signature_version": "s3v4",
            },
        },
    }
    settings.MEDIA_SIGNED_URL_SECONDS = 60
    settings.CSP_MEDIA_ORIGINS = ["https://s3.example.test"]


@pytest.mark.django_db
def test_the_media_view_signs_only_after_the_rights_check(client, s3):
    fan = UserFactory()
    remix = make_remix(owner=fan)
    name = f"remixing/remixes/{remix.pk}/remix-{remix.pk}.mp3"
    Remix.objects.filter(pk=remix.pk).update(output_mp3=name)
    assert client.get(f"/media/{name}").status_code == 404
    client.force_login(fan)
    response = client.get(f"/media/{name}")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.netloc == "s3.example.test"
    assert location.path.endswith(f"/clearmix-media/{name}")
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    assert response["Cache-Control"] == "private, no-store"
    # What pages and the API hand out is the media view, never the object.
    detail = client.get(f"/api/v1/remixes/{remix.pk}/").json()
    assert detail["outputs"]["mp3"] == f"http://testserver/media/{name}"
    Remix.objects.filter(pk=remix.pk).update(status="published", published_at=now())
    client.logout()
    assert client.get(f"/media/{name}").status_code == 302
    # The page's player may follow the redirect: the CSP lets it.
    policy = content_security_policy(nonce="n")
    assert "media-src 'self' blob: https://s3.example.test" in policy
