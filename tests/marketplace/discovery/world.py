"""Published remixes for discovery tests, made as the services leave them
(the render itself is the worker's business and tested there)."""

from __future__ import annotations

from django.utils import timezone

from catalog import services as catalog
from catalog.models import Party, WorkWriter
from remixing.models import Remix
from tests.catalog.factories import PartyFactory, RecordingFactory, WorkFactory, credit
from tests.fixtures.accounts import UserFactory


def remixable_track(
    *, title: str, artist: Party, writer: str = "June Okafor", mood=("dreamy",), user=None
):
    """A remixable recording by `artist`, written by `writer` (a credited songwriter)."""
    songwriter = Party.objects.filter(kind="songwriter", name=writer).first() or PartyFactory(
        kind="songwriter", name=writer
    )
    work = WorkFactory(title=f"{title} (song)")
    recording = RecordingFactory(title=title, work=work, mood=list(mood))
    credit(recording, artist)
    catalog.split_version_create(
        recording=recording, shares=[(artist, 10_000)], check_permission=False
    )
    WorkWriter.objects.create(work=work, party=songwriter, role="composer")
    catalog.split_version_create(work=work, shares=[(songwriter, 10_000)], check_permission=False)
    catalog.recording_listing_refresh(recording_ids=[recording.pk])
    return recording


def artist_with_user(name: str):
    user = UserFactory(is_artist=True, is_fan=False, display_name=name)
    party = PartyFactory(kind="artist", name=name, user=user, claim_verified=True)
    return user, party


def opt_in(party: Party, user) -> None:
    catalog.consent_grant(party=party, actor=user, reason="opt in")


def fan_with_handle(handle: str, **fields):
    return UserFactory(
        handle=handle, display_name=fields.pop("display_name", handle.title()), **fields
    )


def published(recording, fan, title: str, *, preset: str = "", parent=None, **fields) -> Remix:
    now = timezone.now()
    return Remix.objects.create(
        fan=fan,
        recording=recording,
        title=title,
        preset=preset,
        status=Remix.Status.PUBLISHED,
        paid_at=now,
        published_at=fields.pop("published_at", now),
        parent=parent,
        **fields,
    )
