"""Seeding the demo: idempotent, built only from the apps' own services."""

from __future__ import annotations

import io
from collections.abc import Callable

import soundfile
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.models import Party, Recording
from catalog.services.consent import consent_grant
from catalog.services.parties import party_create
from catalog.services.recordings import recording_create
from catalog.services.splits import split_version_create
from catalog.services.works import work_create
from catalog.terms import DEFAULT_CONSENT_TERMS
from remixing.engine.synth import synth_track

from . import catalog_data as data

SAMPLERATE = 44100


def _flac_bytes(audio) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, audio.T, SAMPLERATE, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def _demo_users() -> dict[str, object]:
    User = get_user_model()
    users = {}
    for spec in data.USERS:
        user = User.objects.filter(email=spec.email).first()
        if user is None:
            user = User.objects.create_user(spec.email, data.DEMO_PASSWORD, handle=spec.handle)
            user.display_name = spec.name
            user.is_fan = "fan" in spec.roles
            user.is_artist = "artist" in spec.roles
            user.is_songwriter = "songwriter" in spec.roles
            user.is_auditor = user.is_staff = "auditor" in spec.roles
            user.save()
        EmailAddress.objects.get_or_create(
            user=user, email=spec.email, defaults={"verified": True, "primary": True}
        )
        users[spec.email] = user
    return users


def _parties(users: dict) -> dict[str, Party]:
    kinds = [
        *((name, Party.Kind.ARTIST) for name in data.ARTISTS),
        *((name, Party.Kind.SONGWRITER) for name in data.SONGWRITERS),
        *((name, Party.Kind.LABEL) for name in data.LABELS),
        *((name, Party.Kind.PUBLISHER) for name in data.PUBLISHERS),
    ]
    owners = {**data.ARTIST_OWNERS, **data.SONGWRITER_OWNERS}
    parties = {}
    for name, kind in kinds:
        owner = users.get(owners.get(name, ""))
        parties[name] = party_create(kind=kind, name=name, user=owner)
    return parties


def _track_create(track, *, parties: dict, users: dict) -> None:
    """One demo track: its work, audio and stems, splits and consent."""
    work = work_create(
        title=track.work_title,
        iswc=data.iswc_with_check_digit(track.iswc_digits),
        writers=[(parties[name], role) for name, role in track.writers],
    )
    stems = synth_track(
        seed=track.seed,
        bpm=track.bpm,
        key=track.key,
        duration_s=track.duration_s,
        samplerate=SAMPLERATE,
    )
    recording = recording_create(
        title=track.title,
        isrc=track.isrc,
        work=work,
        main_artists=[parties[name] for name in track.main_artists],
        featured_artists=[parties[name] for name in track.featured],
        genre=track.genre,
        mood=list(track.moods),
        tempo_bpm=track.bpm,
        key=track.key,
        duration_ms=int(track.duration_s * 1000),
        audio=_flac_bytes(stems["mix"]),
        audio_name=f"{track.isrc}.flac",
        stems={name: _flac_bytes(stems[name]) for name in ("drums", "bass", "other", "vocals")},
    )
    split_version_create(
        recording=recording,
        shares=[(parties[n], bps) for n, bps in track.master_split],
        check_permission=False,
        note="Demo data",
    )
    if track.publishing_split:
        split_version_create(
            work=work,
            shares=[(parties[n], bps) for n, bps in track.publishing_split],
            check_permission=False,
            note="Demo data",
        )
    for artist, overrides in track.recording_consent:
        consent_grant(
            party=parties[artist],
            actor=users[data.ARTIST_OWNERS[artist]],
            recording=recording,
            terms=_terms(overrides),
            reason="Opted in for this track (demo).",
        )


@transaction.atomic
def seed_demo(*, log: Callable[[str], None] = print) -> dict:
    """Create the demo catalog. Running it again changes nothing."""
    users = _demo_users()
    parties = _parties(users)
    created = 0
    for track in data.TRACKS:
        if Recording.objects.filter(isrc=track.isrc).exists():
            continue
        _track_create(track, parties=parties, users=users)
        created += 1
        log(f"  created “{track.title}” ({track.bpm} BPM, {track.key})")
    for artist in data.CATALOG_WIDE_CONSENT:
        owner = users[data.ARTIST_OWNERS[artist]]
        consent_grant(
            party=parties[artist],
            actor=owner,
            terms=_terms(data.CATALOG_WIDE_TERMS.get(artist, {})),
            reason="Opted in for my whole catalog (demo).",
        )
    return {"users": users, "parties": parties, "recordings_created": created}


def _terms(overrides: dict) -> dict:
    return {**DEFAULT_CONSENT_TERMS, **overrides}
