"""Studio pages: who may open what, and what everyone else is told."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from catalog.models import Recording
from catalog.services.consent import consent_revoke
from remixing.models import Remix
from remixing.services import remix_create
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db


@pytest.fixture
def entitled_fan(db):
    user = UserFactory(is_fan=True)
    entitle(user)
    return user


def login(client, user):
    client.force_login(user)


def config_of(response) -> dict:
    html = response.content.decode()
    start = html.index('id="studio-config" type="application/json">') + len(
        'id="studio-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_studio_start_needs_login(client, make_recording):
    recording, _ = make_recording()
    response = client.get(reverse("remixing:studio_start", args=[recording.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_studio_start_creates_then_reopens_the_draft(client, entitled_fan, make_recording):
    recording, _ = make_recording(official_stems=True)
    login(client, entitled_fan)
    url = reverse("remixing:studio_start", args=[recording.pk])
    first = client.get(url)
    remix = Remix.objects.get(fan=entitled_fan, recording=recording)
    # The studio itself, at once: no redirect hop before the first sound. The page
    # names the draft's own URL (the script puts it in the address bar).
    assert first.status_code == 200
    assert config_of(first)["remixId"] == remix.pk
    assert config_of(first)["urls"]["studio"] == reverse("remixing:studio", args=[remix.pk])
    again = client.get(url)
    assert again.status_code == 200 and config_of(again)["remixId"] == remix.pk
    assert Remix.objects.filter(fan=entitled_fan, recording=recording).count() == 1
    assert client.post(url).status_code == 405  # a page, not a form target


def test_studio_start_without_entitlement_says_what_is_missing(client, fan, make_recording):
    recording, _ = make_recording()
    login(client, fan)
    response = client.get(reverse("remixing:studio_start", args=[recording.pk]))
    assert response.status_code == 403
    body = response.content.decode()
    assert "Premium" in body and "Remix add-on" in body and "/pricing/" in body
    assert not Remix.objects.exists()


def test_studio_start_for_a_track_without_consent_shows_the_reason(
    client, entitled_fan, make_recording
):
    recording, _ = make_recording(remixable=False)
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio_start", args=[recording.pk]))
    assert response.status_code == 409
    assert "cannot be remixed right now" in response.content.decode()
    assert "Browse remixable tracks" in response.content.decode()
    # Links to the marketplace's pages, as the marketplace registered them.
    body = response.content.decode()
    assert f'href="{reverse("marketplace:track_detail", args=[recording.pk])}"' in body
    assert f'href="{reverse("marketplace:catalog")}"' in body
    assert f'href="{reverse("marketplace:my_remixes")}"' in body
    assert not Remix.objects.exists()


def test_studio_start_unknown_track_is_404(client, entitled_fan):
    login(client, entitled_fan)
    assert client.get(reverse("remixing:studio_start", args=[999_999])).status_code == 404


def test_studio_page_for_owner_has_config(client, entitled_fan, make_recording):
    recording, _ = make_recording(official_stems=True, terms={"key": False})
    remix = remix_create(fan=entitled_fan, recording=recording)
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 200
    config = config_of(response)
    assert config["remixId"] == remix.pk
    assert config["stemNames"] == ["bass", "drums", "other", "vocals"]
    assert {p["slug"] for p in config["presets"]} >= {"chill", "a_cappella", "instrumental"}
    # Re-arranging and covers are off unless the artist switched them on (fail closed).
    assert set(config["forbidden"]) == {"key", "arrangement", "covers"}
    assert config["takes"] == [] and config["urls"]["takes"].endswith("/takes/")
    assert config["suggestion"]["slug"]
    body = response.content.decode()
    assert 'id="key" type="range"' in body and "disabled" in body.split('id="key"')[1][:200]
    assert "not allowed by the artist" in body


def test_someone_elses_draft_is_not_found_with_a_way_out(
    client, entitled_fan, other_fan, make_recording
):
    recording, _ = make_recording()
    remix = remix_create(fan=other_fan, recording=recording)
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 404
    assert "belongs to someone else" in response.content.decode()
    assert remix.title not in response.content.decode()


def test_studio_page_needs_login(client, make_recording, fan):
    recording, _ = make_recording()
    remix = remix_create(fan=fan, recording=recording)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 302


def test_studio_page_without_entitlement_is_refused(client, fan, make_recording):
    recording, _ = make_recording()
    remix = remix_create(fan=fan, recording=recording)
    login(client, fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 403
    assert "Premium" in response.content.decode()


def test_studio_page_after_revocation_explains(client, entitled_fan, make_recording):
    recording, artist = make_recording()
    remix = remix_create(fan=entitled_fan, recording=recording)
    consent_revoke(party=recording.artist_party, actor=artist, reason="Changed my mind")
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response.status_code == 409
    assert "cannot be remixed right now" in response.content.decode()


def test_paid_remix_studio_redirects_to_its_page(client, entitled_fan, make_recording):
    recording, _ = make_recording()
    remix = remix_create(fan=entitled_fan, recording=recording)
    Remix.objects.filter(pk=remix.pk).update(status="ready")
    login(client, entitled_fan)
    response = client.get(reverse("remixing:studio", args=[remix.pk]))
    assert response["Location"] == reverse("marketplace:my_remix", args=[remix.pk])


def test_remix_for_me_follows_history(client, entitled_fan, make_recording):
    for _ in range(2):
        past, _ = make_recording()
        remix_create(fan=entitled_fan, recording=past, preset="lofi")
    recording, _ = make_recording()
    remix = remix_create(fan=entitled_fan, recording=recording)
    login(client, entitled_fan)
    config = config_of(client.get(reverse("remixing:studio", args=[remix.pk])))
    assert config["suggestion"]["slug"] == "lofi"
    assert "Lo-fi" in config["suggestion"]["reason"]


def test_public_page_shows_only_published(client, fan, make_recording):
    recording, _ = make_recording()
    remix = remix_create(fan=fan, recording=recording, title="Night mix")
    url = reverse("remixing:public_remix", args=[remix.share_slug])
    assert client.get(url).status_code == 404
    Remix.objects.filter(pk=remix.pk).update(
        status="published", published_at="2026-01-01T00:00:00Z", description="Late night."
    )
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Night mix" in body and f"Remix of “{recording.title}”" in body
    assert "written by" in body and "Late night." in body and remix.share_slug in body
    assert f'href="{reverse("marketplace:track_detail", args=[recording.pk])}"' in body
    # The old name keeps working.
    assert reverse("remixing:shared", args=[remix.share_slug]) == url


def test_remix_for_me_tells_a_new_fan_it_is_a_starting_suggestion(
    client, entitled_fan, make_recording
):
    # Found: a brand-new user was told "Because you remix a lot of energetic
    # tracks" (the draft they had just opened counted as history).
    recording, _ = make_recording()
    Recording.objects.filter(pk=recording.pk).update(mood=["energetic", "upbeat"])
    remix = remix_create(fan=entitled_fan, recording=recording)
    login(client, entitled_fan)
    reason = config_of(client.get(reverse("remixing:studio", args=[remix.pk])))["suggestion"]
    assert reason["reason"].startswith("No remix history to go on yet")


def test_remix_for_me_says_truthfully_what_it_is_based_on(client, entitled_fan, make_recording):
    past, _ = make_recording()
    Recording.objects.filter(pk=past.pk).update(mood=["energetic"])
    past.refresh_from_db()
    remix_create(fan=entitled_fan, recording=past, preset="workout")
    recording, _ = make_recording()
    remix = remix_create(fan=entitled_fan, recording=recording)
    login(client, entitled_fan)
    reason = config_of(client.get(reverse("remixing:studio", args=[remix.pk])))["suggestion"]
    assert reason["slug"] == "workout"
    assert reason["reason"] == (
        "Because you picked Workout (or something like it) 1x and you remixed 1 energetic track."
    )


# The session and the fan; the remix with its recording; entitlement
# (subscriptions); the rule (credits, consent states, split totals, takedowns);
# the stem set's stem names; the original's preview (read before any
# savepoint is opened: 2 fewer than when get_or_create ran first); the fan's
# other remixes for presets, their credits with parties; the
# work, its writers, its publishing split and shares (credits shown); the
# stems' light streams and peaks (1); the stem set's structure for the
# arrange card (1).
STUDIO_PAGE_QUERIES = 19


@pytest.mark.parametrize("size", [3, 60])
def test_studio_page_costs_the_same_whatever_the_catalog(
    client, entitled_fan, size, django_assert_num_queries
):
    from tests.catalog.factories import RecordingFactory
    from tests.marketplace.billing.factories import make_remix

    remix = make_remix(owner=entitled_fan)
    for n in range(size):
        RecordingFactory(title=f"Other {n}")
    for _ in range(min(size, 5)):
        make_remix(owner=entitled_fan)  # other drafts of the fan's
    login(client, entitled_fan)
    url = reverse("remixing:studio", args=[remix.pk])
    client.get(url)  # the original's preview is requested on the first visit
    with django_assert_num_queries(STUDIO_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert config_of(response)["remixId"] == remix.pk


# From a track: the studio page's queries and one more (the recording, looked up
# by its id before the fan's draft of it), with no redirect to follow.
STUDIO_START_QUERIES = STUDIO_PAGE_QUERIES + 1


@pytest.mark.parametrize("size", [3, 60])
def test_studio_from_a_track_costs_one_query_more_and_no_redirect(
    client, entitled_fan, size, django_assert_num_queries
):
    from tests.catalog.factories import RecordingFactory
    from tests.marketplace.billing.factories import make_remix

    remix = make_remix(owner=entitled_fan)
    for n in range(size):
        RecordingFactory(title=f"Other {n}")
    login(client, entitled_fan)
    url = reverse("remixing:studio_start", args=[remix.recording_id])
    client.get(url)  # the original's preview is requested on the first visit
    with django_assert_num_queries(STUDIO_START_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert config_of(response)["remixId"] == remix.pk
