"""Remix this remix: the author's opt-in, the fork from a published recipe,
the credit chain on the page and in the file tags, and the money unchanged."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from remixing.job_runner import remix_file_tags
from remixing.models import Remix
from remixing.services import remix_create
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db

RECIPE = {"version": 1, "stems": {"drums": {"gain_db": -3.0}}}


def publish(remix: Remix, title: str) -> Remix:
    Remix.objects.filter(pk=remix.pk).update(
        status=Remix.Status.PUBLISHED,
        title=title,
        paid_at=timezone.now(),
        published_at=timezone.now(),
    )
    remix.refresh_from_db()
    return remix


@pytest.fixture
def dusk(make_recording):
    recording, _ = make_recording(official_stems=True, title="Blue Hour")
    ada = UserFactory(handle="ada", display_name="Ada B")
    entitle(ada)
    return publish(remix_create(fan=ada, recording=recording, recipe=RECIPE), "Blue Dusk")


@pytest.fixture
def bo():
    user = UserFactory(handle="bo", display_name="Bo")
    entitle(user)
    return user


def test_forks_are_off_until_the_author_allows_them(client, dusk, bo):
    page = f"/studio/r/{dusk.share_slug}/"
    client.force_login(bo)
    assert "has not opened this remix" in client.get(page).content.decode()
    refused = client.post(f"{page}fork/")
    assert refused.status_code == 403
    assert "has not allowed others to build on this remix" in refused.content.decode()
    assert not Remix.objects.filter(fan=bo).exists()

    client.force_login(dusk.fan)
    assert "Allow others to build on this remix" in client.get(page).content.decode()
    client.post(f"/studio/remixes/{dusk.pk}/forks/", {"allow_forks": "on"})
    assert Remix.objects.get(pk=dusk.pk).allow_forks is True
    client.force_login(bo)  # someone else cannot switch it off
    assert client.post(f"/studio/remixes/{dusk.pk}/forks/").status_code == 404
    assert Remix.objects.get(pk=dusk.pk).allow_forks is True


def test_a_premium_fan_forks_and_the_chain_is_credited_in_page_and_tags(client, dusk, bo):
    Remix.objects.filter(pk=dusk.pk).update(allow_forks=True)
    client.force_login(bo)
    response = client.post(f"/studio/r/{dusk.share_slug}/fork/")
    fork = Remix.objects.get(fan=bo)
    assert response["Location"] == f"/studio/remixes/{fork.pk}/"
    assert fork.parent_id == dusk.pk and fork.status == Remix.Status.DRAFT
    assert fork.recipe == dusk.recipe
    # The money follows the recording's split versions, exactly as for any remix of it.
    assert fork.master_split_version_id == dusk.master_split_version_id
    assert fork.publishing_split_version_id == dusk.publishing_split_version_id
    assert f"from remix #{dusk.pk} by @ada" in fork.events.get().reason

    publish(fork, "Bluer Dusk")
    html = client.get(f"/studio/r/{fork.share_slug}/").content.decode()
    assert (
        f'Inspired by <a href="/studio/r/{dusk.share_slug}/">Blue Dusk</a> by @ada, '
        "a remix of “Blue Hour”." in html
    )
    assert "@ada, whose remix inspired it, is credited here but not paid." in html
    assert "Remix of “Blue Hour” by The Artist" in html  # the original's credits stay
    comment = remix_file_tags(fork)["comment"]
    assert "Inspired by “Blue Dusk” by @ada." in comment
    assert comment.startswith("Remix of “Blue Hour” by The Artist")


def test_a_fork_of_a_fork_names_the_whole_chain(client, dusk, bo):
    Remix.objects.filter(pk=dusk.pk).update(allow_forks=True)
    middle = publish(
        remix_create(fan=bo, recording=dusk.recording, recipe=dusk.recipe, parent=dusk), "Middle"
    )
    cy = UserFactory(handle="cy")
    last = publish(
        remix_create(fan=cy, recording=dusk.recording, recipe=dusk.recipe, parent=middle), "Last"
    )
    html = client.get(f"/studio/r/{last.share_slug}/").content.decode()
    assert "Middle</a> by @bo, in turn Inspired by <a" in html and "Blue Dusk</a> by @ada" in html
    assert (
        "Inspired by “Middle” by @bo, Inspired by “Blue Dusk” by @ada."
        in remix_file_tags(last)["comment"]
    )


def test_a_fan_without_premium_is_told_what_is_missing(client, dusk):
    Remix.objects.filter(pk=dusk.pk).update(allow_forks=True)
    client.force_login(UserFactory(handle="free"))
    response = client.post(f"/studio/r/{dusk.share_slug}/fork/")
    assert response.status_code == 403
    assert "The studio needs Premium and the Remix add-on" in response.content.decode()


def test_the_audit_trail_shows_the_chain(client, dusk, bo):
    fork = publish(
        remix_create(fan=bo, recording=dusk.recording, recipe=dusk.recipe, parent=dusk), "Fork"
    )
    client.force_login(UserFactory(is_auditor=True, is_staff=True, is_fan=False))
    html = client.get(f"/audit/remixes/{fork.pk}/").content.decode()
    assert (
        f'Started from <a href="/audit/remixes/{dusk.pk}/">remix #{dusk.pk} “Blue Dusk”</a> by @ada'
        in html
    )
    parent = client.get(f"/audit/remixes/{dusk.pk}/").content.decode()
    assert f'Forked by: <a href="/audit/remixes/{fork.pk}/">remix #{fork.pk}</a> by @bo' in parent


def test_the_fans_own_page_of_a_fork_names_its_inspiration(client, dusk, bo):
    fork = remix_create(fan=bo, recording=dusk.recording, recipe=dusk.recipe, parent=dusk)
    client.force_login(bo)
    html = client.get(f"/my/remixes/{fork.pk}/").content.decode()
    assert "Inspired by “Blue Dusk” by @ada. They are credited, not paid" in html


def test_clicking_twice_opens_the_same_draft_unless_the_fan_asks_for_another(client, dusk, bo):
    Remix.objects.filter(pk=dusk.pk).update(allow_forks=True)
    page = f"/studio/r/{dusk.share_slug}/"
    client.force_login(bo)
    first = client.post(f"{page}fork/")
    second = client.post(f"{page}fork/")
    draft = Remix.objects.get(fan=bo, parent=dusk)  # one draft, not two
    assert first["Location"] == second["Location"] == f"/studio/remixes/{draft.pk}/"
    assert draft.events.count() == 1
    # The page says so: open that draft, or start another on purpose.
    html = client.get(page).content.decode()
    assert f'href="/studio/remixes/{draft.pk}/" data-testid="fork-draft"' in html
    another = client.post(f"{page}fork/", {"new": "1"})
    newer = Remix.objects.filter(fan=bo, parent=dusk).exclude(pk=draft.pk).get()
    assert another["Location"] == f"/studio/remixes/{newer.pk}/"
    # Someone else's click is their own draft; a fork no longer a draft is not reopened.
    cy = UserFactory(handle="cy")
    entitle(cy)
    client.force_login(cy)
    client.post(f"{page}fork/")
    assert Remix.objects.filter(fan=cy, parent=dusk).count() == 1
    Remix.objects.filter(fan=cy).update(status=Remix.Status.CANCELLED)
    client.post(f"{page}fork/")
    assert Remix.objects.filter(fan=cy, parent=dusk, status=Remix.Status.DRAFT).count() == 1


def test_clicks_at_the_same_moment_make_one_draft(transactional_db, dusk, bo):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SQLite serialises all writers anyway.")
    Remix.objects.filter(pk=dusk.pk).update(allow_forks=True)
    barrier = threading.Barrier(4)

    def click(_: int) -> str:
        try:
            browser = Client()
            browser.force_login(bo)
            barrier.wait()
            response = browser.post(f"/studio/r/{dusk.share_slug}/fork/")
            return response.get("Location", str(response.status_code))
        finally:
            connections.close_all()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(click, range(4), timeout=60))
    draft = Remix.objects.get(fan=bo, parent=dusk)
    assert answers == [f"/studio/remixes/{draft.pk}/"] * 4
