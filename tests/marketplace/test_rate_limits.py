"""Rate limits on the doors a script would hammer: sign-up, log-in, upload,
checkout and the API (plays: tests/remixing/test_api_input.py). Over a limit
the answer is 429 with Retry-After and plain words, and nothing is stored.

The suite lifts the limits (its fuzzers call the API in loops as one person);
each test here sets a small window for its door and counts up to it.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.models import Recording
from marketplace.models import Subscription
from marketplace.rate_limits import parse_rate
from tests.catalog.factories import artist_user, remixable_recording
from tests.fixtures.accounts import UserFactory

pytestmark = pytest.mark.django_db


def _limit(settings, name: str, rate: str) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, name: {**settings.RATE_LIMITS[name]}}
    settings.RATE_LIMITS[name]["rate"] = rate


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _assert_refused_page(response, words: str) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    page = response.content.decode()
    assert words in page
    assert "Please try again in" in page
    assert "Nothing was saved." in page


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", str(path)], check=True
    )
    return path.read_bytes()


def test_upload_over_the_limit_is_429_and_stores_nothing(settings, tone):
    _limit(settings, "upload", "2/hour")
    user, party = artist_user("Busy Uploader")
    services.consent_grant(party=party, actor=user, terms={}, reason="opt in")
    client = _signed_in(user)
    url = reverse("catalog:recording_upload")
    for title in ("One", "Two"):
        audio = SimpleUploadedFile(f"{title}.wav", tone)
        data = {"audio": audio, "title": title, "main_artists": [party.pk], "consent": "keep"}
        assert client.post(url, data).status_code in (200, 302)
    before = Recording.objects.count()
    audio = SimpleUploadedFile("three.wav", tone + b"\x00")
    response = client.post(
        url, {"audio": audio, "title": "Three", "main_artists": [party.pk], "consent": "keep"}
    )
    _assert_refused_page(response, "You have uploaded many recordings in a short time.")
    assert Recording.objects.count() == before
    assert not Recording.objects.filter(title="Three").exists()
    # The page itself still opens (the limit counts uploads, not visits),
    # and another artist is not held back by this one.
    assert client.get(url).status_code == 200
    other, other_party = artist_user("Calm Uploader")
    services.consent_grant(party=other_party, actor=other, terms={}, reason="opt in")
    audio = SimpleUploadedFile("four.wav", tone)
    data = {"audio": audio, "title": "Four", "main_artists": [other_party.pk], "consent": "keep"}
    assert _signed_in(other).post(url, data).status_code in (200, 302)


def test_checkout_over_the_limit_is_429_and_starts_no_checkout(settings, fan):
    _limit(settings, "checkout", "2/hour")
    client = _signed_in(fan)
    url = reverse("marketplace:subscribe", args=["premium"])
    first = [client.post(url).status_code for _ in range(2)]
    assert all(status in (302, 303) for status in first), first
    started = Subscription.objects.filter(user=fan).count()
    response = client.post(url)
    _assert_refused_page(response, "Many checkouts were started in a short time.")
    assert Subscription.objects.filter(user=fan).count() == started


def test_api_reads_over_the_limit_get_the_api_error_shape(settings):
    _limit(settings, "api-read", "3/minute")
    recording, _, _ = remixable_recording("API Artist")
    reader = _signed_in(UserFactory())
    url = f"/api/v1/tracks/{recording.pk}/"
    assert [reader.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = reader.get(url)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"].startswith("Too many API requests were made in a short time.")
    assert set(error) == {"code", "message", "fields"}
    # Counted per person: someone else (and an anonymous visitor) still gets answers.
    assert _signed_in(UserFactory()).get(url).status_code == 200
    assert Client().get(url).status_code == 200


def test_api_writes_have_their_own_smaller_budget(settings):
    _limit(settings, "api-write", "1/minute")
    client = _signed_in(UserFactory())
    assert client.post("/api/v1/remixes/", {}, content_type="application/json").status_code != 429
    assert client.post("/api/v1/remixes/", {}, content_type="application/json").status_code == 429
    assert client.get("/api/v1/tracks/").status_code == 200


def test_anonymous_visitors_are_counted_by_address(settings):
    _limit(settings, "api-read", "2/minute")
    one, two = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    assert [one.get("/api/v1/tracks/").status_code for _ in range(2)] == [200, 200]
    assert one.get("/api/v1/tracks/").status_code == 429
    assert two.get("/api/v1/tracks/").status_code == 200


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(settings):
    _limit(settings, "api-read", "1/minute")
    spoofing = Client(REMOTE_ADDR="10.0.0.9")
    assert spoofing.get("/api/v1/tracks/", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    # Not trusted: a forged header does not buy a fresh budget.
    assert spoofing.get("/api/v1/tracks/", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429
    settings.RATE_LIMIT_TRUST_FORWARDED_FOR = True
    proxy = Client(REMOTE_ADDR="10.0.0.10")
    behind = proxy.get("/api/v1/tracks/", HTTP_X_FORWARDED_FOR="3.3.3.3, 10.0.0.10")
    assert behind.status_code == 200
    assert proxy.get("/api/v1/tracks/", HTTP_X_FORWARDED_FOR="4.4.4.4").status_code == 200
    assert proxy.get("/api/v1/tracks/", HTTP_X_FORWARDED_FOR="3.3.3.3").status_code == 429


@pytest.fixture
def client():
    """A visitor from an address of its own: allauth counts in the default
    cache, which outlives a test (a file, or Redis), so a fixed address would
    carry counts over from earlier runs."""
    return Client(REMOTE_ADDR="10.{}.{}.{}".format(*os.urandom(3)))


def test_sign_ups_from_one_address_are_limited(settings, client):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/h/ip"}
    url = reverse("account_signup")

    def sign_up(n: int):
        password = "a-long-pass-phrase-9"
        data = {"email": f"new{n}@example.com", "handle": f"newcomer{n}", "display_name": "New"}
        return client.post(url, {**data, "password1": password, "password2": password})

    for n in range(2):
        sign_up(n)
        client.logout()
    assert get_user_model().objects.filter(email__startswith="new").count() == 2
    response = sign_up(2)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not get_user_model().objects.filter(email="new2@example.com").exists()


def test_log_ins_from_one_address_are_limited(settings, client):
    settings.ACCOUNT_RATE_LIMITS = {"login": "3/m/ip"}
    user = UserFactory(email="someone@example.com")
    url = reverse("account_login")
    for _ in range(3):
        client.post(url, {"login": "nobody@example.com", "password": "wrong"})
    response = client.post(url, {"login": user.email, "password": "correct-horse-battery-staple"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("30/minute", (30, 60)), ("20/hour", (20, 3600)), ("1/second", (1, 1)), ("5/day", (5, 86400))],
)
def test_rates_read_as_written(rate, expected):
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["30", "x/minute", "30/fortnight", "-1/hour", ""])
def test_a_misspelt_rate_is_refused(rate):
    with pytest.raises(ValueError, match="bad rate"):
        parse_rate(rate)


def test_a_window_counter_on_redis_is_one_round_trip_and_expires_with_its_window(settings):
    """On Redis (the production cache) a request is counted in one pipelined
    round trip, in a counter made with its window's lifetime (one without
    would lock an address out for good), and the limit refuses as elsewhere."""
    cache = caches["default"]
    if not hasattr(cache, "count_in_window"):
        pytest.skip("the cache is Redis only where REDIS_URL is set (as in CI)")
    key = f"test-window:{os.getpid()}"
    cache.delete(key)
    client = cache._cache.get_client(key, write=True)
    pipelines = []
    real = client.pipeline
    client.pipeline = lambda *a, **k: pipelines.append(1) or real(*a, **k)
    try:
        counts = [cache.count_in_window(key, 61) for _ in range(3)]
    finally:
        del client.pipeline
    assert counts == [1, 2, 3] and len(pipelines) == 3
    assert cache.get(key) == 3  # what Django's get reads: a plain integer
    assert 55 <= client.ttl(cache.make_and_validate_key(key)) <= 61
    cache.delete(key)

    settings.RATE_LIMIT_CACHE = "default"
    _limit(settings, "api-read", "2/minute")
    address = f"10.9.{os.getpid() % 250}.{counts[0]}"
    api = Client(REMOTE_ADDR=address)
    assert [api.get("/api/v1/tracks/").status_code for _ in range(3)] == [200, 200, 429]
