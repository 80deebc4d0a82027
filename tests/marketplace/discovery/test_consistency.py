"""Consent first: a revocation that unpublishes remixes removes them from
every list, feed, profile and embed at once; counts stay exact under
concurrent likes and plays; feed and profile pages cost the same number of
queries for 3 remixes as for thousands."""

from __future__ import annotations

import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import services as catalog
from marketplace.discovery import services
from marketplace.discovery.selectors import like_count, week_start
from marketplace.models import RemixWeeklyPlay
from remixing.models import Remix
from tests.marketplace.discovery.world import (
    artist_with_user,
    fan_with_handle,
    opt_in,
    published,
    remixable_track,
)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_revocation_removes_remixes_from_every_list_feed_profile_and_embed(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    nova_user, nova = artist_with_user("Nova Lane")
    blue = remixable_track(title="Blue Hour", artist=nova)
    opt_in(nova, nova_user)
    ada = fan_with_handle("ada")
    bo = fan_with_handle("bo")
    dusk = published(blue, ada, "Blue Dusk")
    dusk.output_ogg.save("remix.ogg", ContentFile(b"OggS fake lossy remix"))
    services.remix_like(user=bo, remix_id=dusk.pk)
    services.follow_artist(follower=bo, party_id=nova.pk)
    services.follow_remixer(follower=bo, remixer_id=ada.pk)
    services.notices_new_remix(remix_id=dusk.pk)
    pages = [
        "/",
        "/remixes/",
        f"/remixes/?track={blue.pk}",
        "/search/?q=dusk",
        f"/tracks/{blue.pk}/",
        f"/artists/{nova.pk}/",
        "/people/ada/",
        "/people/bo/",
        "/following/",
        f"/embed/remix/{dusk.share_slug}/",
    ]
    client = logged_in(bo)
    for url in pages:
        assert "Blue Dusk" in client.get(url).content.decode(), url
    media = client.get(f"/embed/remix/{dusk.share_slug}/").content.decode()
    assert "<audio" in media
    # Its lossy file is public while published (the player's source URL).
    audio_url = f"/media/{dusk.output_ogg.name}"
    assert f'src="{audio_url}' in media
    playing = Client().get(audio_url)
    assert playing.status_code == 200
    assert playing["Cache-Control"] == "public, no-cache"  # revalidated on every play

    with django_capture_on_commit_callbacks(execute=True):
        catalog.consent_revoke(party=nova, actor=nova_user, reason="done")

    assert Remix.objects.get(pk=dusk.pk).status == Remix.Status.READY
    for url in pages:
        html = client.get(url).content.decode()
        assert "Blue Dusk" not in html, url
    embed = client.get(f"/embed/remix/{dusk.share_slug}/")
    assert embed.status_code == 404
    assert "<audio" not in embed.content.decode()
    assert client.get(f"/studio/r/{dusk.share_slug}/").status_code == 404
    # An embed already loaded elsewhere stops too: the file is checked per request.
    assert Client().get(audio_url).status_code == 404


@pytest.mark.django_db
def test_embed_may_be_framed_by_any_site_other_pages_by_none():
    nova_user, nova = artist_with_user("Nova Lane")
    blue = remixable_track(title="Blue Hour", artist=nova)
    opt_in(nova, nova_user)
    dusk = published(blue, fan_with_handle("ada"), "Blue Dusk")
    embed = Client().get(f"/embed/remix/{dusk.share_slug}/")
    assert "frame-ancestors *" in embed["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed
    page = Client().get(f"/studio/r/{dusk.share_slug}/")
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert Client().get(f"/s/{dusk.share_slug}/")["Location"] == f"/studio/r/{dusk.share_slug}/"


def _concurrently(work, count: int) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_likes_and_plays_count_exactly():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    nova_user, nova = artist_with_user("Nova Lane")
    blue = remixable_track(title="Blue Hour", artist=nova)
    opt_in(nova, nova_user)
    dusk = published(blue, fan_with_handle("ada"), "Blue Dusk")
    fans = [fan_with_handle(f"fan{i}") for i in range(8)]
    # Every fan likes twice and plays three times, all at once.
    _concurrently(lambda i: services.remix_like(user=fans[i % 8], remix_id=dusk.pk), 16)
    _concurrently(
        lambda i: services.remix_weekly_play_record(remix_id=dusk.pk, listener=f"l{i % 8}"), 24
    )
    assert like_count(remix_id=dusk.pk) == 8
    assert RemixWeeklyPlay.objects.filter(remix=dusk, week_start=week_start()).count() == 8
    html = Client().get("/remixes/?sort=popular").content.decode()
    assert '<span data-testid="likes">8</span> likes' in html
    assert '<span data-testid="plays-week">8</span> listeners this week' in html


def _bulk_remixes(fan, recordings, count: int) -> None:
    now = timezone.now()
    Remix.objects.bulk_create(
        [
            Remix(
                fan=fan,
                recording=recordings[i % len(recordings)],
                title=f"Bulk {i}",
                status=Remix.Status.PUBLISHED,
                paid_at=now,
                published_at=now,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_feed_profile_and_lists_cost_the_same_queries_for_few_or_many_remixes():
    many = 10_000 if connection.vendor == "postgresql" else 300
    nova_user, nova = artist_with_user("Nova Lane")
    tracks = [remixable_track(title=f"Track {i}", artist=nova) for i in range(3)]
    opt_in(nova, nova_user)
    ada = fan_with_handle("ada")
    bo = fan_with_handle("bo")
    services.follow_artist(follower=bo, party_id=nova.pk)
    services.follow_remixer(follower=bo, remixer_id=ada.pk)
    _bulk_remixes(ada, tracks, 3)
    for remix in Remix.objects.all()[:3]:
        services.remix_like(user=bo, remix_id=remix.pk)
    client = logged_in(bo)
    urls = ["/following/", "/people/ada/", "/people/bo/", "/remixes/", f"/artists/{nova.pk}/"]
    for url in urls:
        client.get(url)  # warm caches (sessions, facets)
    few = {url: _queries(client, url) for url in urls}
    _bulk_remixes(ada, tracks, many)
    for remix in Remix.objects.order_by("-id")[:30]:
        services.remix_like(user=bo, remix_id=remix.pk)
    assert {url: _queries(client, url) for url in urls} == few
