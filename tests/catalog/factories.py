"""Factories and builders for catalog tests."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from catalog import services
from catalog.models import Party, Recording, RecordingArtist, Work


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("pw-Secret-123")
    is_fan = True


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    kind = Party.Kind.ARTIST
    name = factory.Sequence(lambda n: f"Party {n}")


class WorkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Work

    title = factory.Sequence(lambda n: f"Work {n}")


class RecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recording
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Track {n}")
    genre = "electronic"
    tempo_bpm = 120
    key = "A minor"
    duration_ms = 180_000

    @factory.post_generation
    def listing_state(obj, create, extracted, **kwargs):
        # Built around recording_create, so derive its stored state as it would.
        if create:
            services.recording_listing_refresh(recording_ids=[obj.pk])


def artist_user(name: str = "Artist", *, verified: bool = True, kind: str = "artist"):
    """A user who owns (claimed, verified) a party of `kind`."""
    user = UserFactory(is_artist=True)
    party = PartyFactory(kind=kind, name=name, user=user, claim_verified=verified)
    return user, party


def staff_user():
    return UserFactory(is_staff=True, is_superuser=True)


def credit(recording: Recording, party: Party, role: str = "main", order: int = 0):
    """An artist link, made as the admin's inline makes it (then refreshed)."""
    link = RecordingArtist.objects.create(recording=recording, party=party, role=role, order=order)
    services.recording_listing_refresh(recording_ids=[recording.pk])
    return link


def complete_splits(recording: Recording, *, master=None, publishing=None):
    """Give a recording full master and publishing splits."""
    if master is None:
        master = [(p, 10_000) for p in [recording.artists.filter(role="main").first().party]]
    services.split_version_create(recording=recording, shares=master, check_permission=False)
    if recording.work is None:
        recording.work = WorkFactory()
        recording.save(update_fields=["work"])
        services.recording_listing_refresh(recording_ids=[recording.pk])
    if publishing is None:
        publishing = [(PartyFactory(kind="songwriter"), 10_000)]
    services.split_version_create(work=recording.work, shares=publishing, check_permission=False)


def remixable_recording(name: str = "Artist", **fields):
    """A recording whose one main artist has granted catalog-wide consent.
    Made by recording_create (the factory's defaults, one listing refresh)."""
    user, party = artist_user(name)
    draft = RecordingFactory.build(**fields)
    recording = services.recording_create(
        title=draft.title,
        main_artists=[party],
        work=WorkFactory(),
        genre=draft.genre,
        tempo_bpm=draft.tempo_bpm,
        key=draft.key,
        duration_ms=draft.duration_ms,
    )
    complete_splits(recording)
    services.consent_grant(party=party, actor=user, reason="opt in")
    return recording, party, user
