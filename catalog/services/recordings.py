"""Recordings: created by code (seed data, staff) or uploaded by rights holders."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import TypeVar

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from catalog import signals
from catalog.identifiers import (
    normalize_ipi,
    normalize_isrc,
    normalize_iswc,
    normalize_musical_key,
)
from catalog.models import OfficialStem, Party, Recording, RecordingArtist, Work, WorkWriter
from catalog.selectors import consent_effective, party_list_owned, user_owns_party
from core.errors import DomainError, PermissionDenied

from ._common import announce_rights_changed, identifier_or_error
from .checked_audio import (
    AudioSource,
    CheckedAudio,
    check_audio,
    fingerprint_or_error,
    fingerprint_or_none,
    source_name,
)
from .consent import consent_grant, consent_revoke
from .ghost_tracks import ghost_track_check, recording_fingerprint_store
from .listing_state import recording_listing_refresh
from .parties import party_create, party_songwriter_for_user
from .works import work_create


def _tempo_or_error(tempo_bpm) -> int | None:
    if tempo_bpm in (None, ""):
        return None
    try:
        tempo = int(tempo_bpm)
    except (TypeError, ValueError):
        tempo = -1
    if not 20 <= tempo <= 400:
        raise DomainError("Tempo must be 20 to 400 BPM.", fields={"tempo_bpm": ["20 to 400."]})
    return tempo


def _moods(mood: Iterable[str] | str | None) -> list[str]:
    if isinstance(mood, str):
        mood = mood.split(",")
    return sorted({m.strip().lower() for m in mood or [] if m and m.strip()})


def _check_artists(main_artists: Sequence[Party], featured_artists: Sequence[Party]) -> None:
    if not main_artists:
        raise DomainError("Name at least one main artist.", fields={"main_artists": ["Required."]})
    everyone = [*main_artists, *featured_artists]
    if len({p.pk for p in everyone}) != len(everyone):
        raise DomainError(
            "An artist is listed twice.", fields={"featured_artists": ["Listed twice."]}
        )
    for party in everyone:
        if party.kind != Party.Kind.ARTIST:
            raise DomainError(
                f"{party.name} is not an artist.", fields={"main_artists": ["Artists only."]}
            )


def _credit_artists(
    recording: Recording, main_artists: Sequence[Party], featured_artists: Sequence[Party]
) -> None:
    credits = [(party, RecordingArtist.Role.MAIN) for party in main_artists]
    credits += [(party, RecordingArtist.Role.FEATURED) for party in featured_artists]
    RecordingArtist.objects.bulk_create(
        RecordingArtist(recording=recording, party=party, role=role, order=order)
        for order, (party, role) in enumerate(credits)
    )


def _store_official_stems(
    recording: Recording, stems: Mapping[str, CheckedAudio], stored: list[str]
) -> None:
    for stem_name, stem in stems.items():
        official = OfficialStem(
            recording=recording, name=stem_name, sha256=stem.sha256, duration_ms=stem.duration_ms
        )
        with open(stem.path, "rb") as handle:
            official.file.save(stem.name, File(handle), save=False)
        stored.append(official.file.name)
        official.save()


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise DomainError("A recording needs a title.", fields={"title": ["Enter a title."]})
    return title


def _save_recording(
    *,
    title: str,
    isrc: str | None,
    work: Work | None,
    main_artists: Sequence[Party],
    featured_artists: Sequence[Party],
    genre: str,
    mood: list[str],
    tempo_bpm: int | None,
    key: str,
    duration_ms: int | None,
    audio: CheckedAudio | None,
    stems: Mapping[str, CheckedAudio],
    created_by,
    stored: list[str],
) -> Recording:
    """Write rows and files; `stored` collects file names to delete on failure."""
    recording = Recording(
        title=title,
        isrc=isrc,
        work=work,
        genre=genre,
        mood=mood,
        tempo_bpm=tempo_bpm,
        key=key,
        duration_ms=duration_ms,
        audio_sha256=audio.sha256 if audio else None,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )
    if audio is not None:
        with open(audio.path, "rb") as handle:
            recording.audio.save(audio.name, File(handle), save=False)
        stored.append(recording.audio.name)
    recording.save()
    if audio is not None and audio.fingerprint is not None:
        recording_fingerprint_store(recording=recording, frames=audio.fingerprint)
    if audio is not None:
        transaction.on_commit(
            partial(
                signals.recording_audio_stored.send, sender=Recording, recording_id=recording.pk
            )
        )
    _credit_artists(recording, main_artists, featured_artists)
    _store_official_stems(recording, stems, stored)
    # Artist and work links are made here: derive the listing state now.
    recording_listing_refresh(recording_ids=[recording.pk])
    announce_rights_changed([recording.pk], "recording created")
    return recording


Source = TypeVar("Source")


def _known_stems(stems: Mapping[str, Source]) -> dict[str, Source]:
    """The stems by name, refused if a name is not one of the official stems."""
    for name in stems:
        if name not in OfficialStem.Name.values:
            raise DomainError(
                f"Unknown stem {name!r}.", fields={f"stems.{name}": ["Unknown stem name."]}
            )
    return dict(stems)


def _checked_key_and_tempo(key: str, tempo_bpm: int | None) -> tuple[str, int | None]:
    return identifier_or_error(normalize_musical_key, key, "key") or "", _tempo_or_error(tempo_bpm)


def _check_seed_audio(
    audio: AudioSource, audio_name: str | None, *, probe: bool, tmpdir: str
) -> CheckedAudio:
    name = audio_name or source_name(audio, "audio.wav")
    return check_audio(audio, name=name, field_name="audio", probe=probe, tmpdir=tmpdir)


def _check_seed_stems(
    stems: Mapping[str, AudioSource], *, probe: bool, tmpdir: str
) -> dict[str, CheckedAudio]:
    return {
        stem_name: check_audio(
            source,
            name=source_name(source, f"{stem_name}.wav"),
            field_name=f"stems.{stem_name}",
            probe=probe,
            tmpdir=tmpdir,
        )
        for stem_name, source in stems.items()
    }


@transaction.atomic
def recording_create(
    *,
    title: str,
    main_artists: Sequence[Party],
    featured_artists: Sequence[Party] = (),
    isrc: str | None = None,
    work: Work | None = None,
    genre: str = "",
    mood: Iterable[str] | str | None = None,
    tempo_bpm: int | None = None,
    key: str = "",
    duration_ms: int | None = None,
    audio: AudioSource | None = None,
    audio_name: str | None = None,
    stems: Mapping[str, AudioSource] | None = None,
    created_by=None,
    probe: bool = False,
) -> Recording:
    """Create a recording by code (seed data, staff tools).

    Idempotent: an existing recording with the same ISRC, or the same audio,
    is returned unchanged. Audio is hashed; it is probed with ffprobe only
    when `probe` is true or no duration is given.
    """
    title = _check_title(title)
    isrc = identifier_or_error(normalize_isrc, isrc, "isrc")
    if isrc and (existing := Recording.objects.filter(isrc=isrc).first()):
        return existing
    key, tempo_bpm = _checked_key_and_tempo(key, tempo_bpm)
    _check_artists(main_artists, featured_artists)
    stems = _known_stems(stems or {})
    stored: list[str] = []
    with tempfile.TemporaryDirectory(prefix="catalog-") as tmpdir, _cleanup_on_error(stored):
        checked = None
        if audio is not None:
            checked = _check_seed_audio(
                audio, audio_name, probe=probe or not duration_ms, tmpdir=tmpdir
            )
            if existing := Recording.objects.filter(audio_sha256=checked.sha256).first():
                return existing
            duration_ms = duration_ms or checked.duration_ms
            checked.fingerprint = fingerprint_or_none(checked.path)
        checked_stems = _check_seed_stems(stems, probe=probe, tmpdir=tmpdir)
        return _save_recording(
            title=title,
            isrc=isrc,
            work=work,
            main_artists=main_artists,
            featured_artists=featured_artists,
            genre=(genre or "").strip(),
            mood=_moods(mood),
            tempo_bpm=tempo_bpm,
            key=key,
            duration_ms=duration_ms,
            audio=checked,
            stems=checked_stems,
            created_by=created_by,
            stored=stored,
        )


@dataclass
class UploadResult:
    recording: Recording
    created: bool
    notes: list[str] = field(default_factory=list)


class UploadConsent(StrEnum):
    """What the uploading artist decides about remixes of the new track."""

    KEEP = "keep"  # whatever the artist's catalog-wide statement says
    OPT_OUT = "opt_out"  # a revocation for this recording only
    GRANT = "grant"  # a grant for this recording only


@dataclass(frozen=True)
class WriterCredit:
    """A songwriter of the uploaded track: a party already in the catalog,
    a new one (name and optional IPI), or the uploading artist themselves."""

    role: str = WorkWriter.Role.COMPOSER_LYRICIST
    party: Party | None = None
    name: str = ""
    ipi: str = ""
    is_uploader: bool = False


def _check_uploader(uploader, main_artists: Sequence[Party]) -> None:
    """Artists upload their own recordings; a label may upload for any artist."""
    owned = list(party_list_owned(user=uploader, kinds=[Party.Kind.ARTIST, Party.Kind.LABEL]))
    if not owned:
        raise PermissionDenied(
            "Only a verified artist or label can upload recordings. Claim your artist first."
        )
    if any(p.kind == Party.Kind.LABEL for p in owned):
        return
    owned_ids = {p.pk for p in owned}
    if not any(p.pk in owned_ids for p in main_artists):
        raise DomainError(
            "You can upload only recordings on which you are a main artist.",
            fields={"main_artists": ["Include the artist you speak for."]},
        )


def _owned_main_artists(uploader, main_artists: Sequence[Party]) -> list[Party]:
    return [p for p in main_artists if user_owns_party(user=uploader, party=p)]


def _check_consent_and_writers(
    uploader, main_artists: Sequence[Party], consent: str, writers: Sequence[WriterCredit]
) -> None:
    """Refuse a bad consent choice or writer before any audio is read."""
    if consent not in UploadConsent.__members__.values():
        raise DomainError("Choose what happens to remixes.", fields={"consent": ["Unknown."]})
    if consent != UploadConsent.KEEP and not _owned_main_artists(uploader, main_artists):
        raise DomainError(
            "Only the artist decides remix consent for a track.",
            code="not_party_owner",
            fields={"consent": ["You do not speak for a main artist of this track."]},
        )
    for writer in writers:
        if writer.role not in WorkWriter.Role.values:
            raise DomainError("Unknown writer role.", fields={"writers": [f"{writer.role!r}?"]})
        if writer.is_uploader and not _owned_main_artists(uploader, main_artists):
            raise DomainError(
                "Only a main artist of the track can list themselves as its writer.",
                fields={"writers": ["You are not a main artist here."]},
            )
        if writer.party is None and not writer.is_uploader and not writer.name.strip():
            raise DomainError("A new writer needs a name.", fields={"writers": ["Name?"]})
        identifier_or_error(normalize_ipi, writer.ipi, "writers")


def _check_isrc_is_new(isrc: str | None) -> None:
    if isrc and Recording.objects.filter(isrc=isrc).exists():
        raise DomainError(
            "A recording with this ISRC is already in the catalog.",
            code="duplicate_isrc",
            fields={"isrc": ["Already in the catalog."]},
        )


def _guard_against_ghost_track(
    checked: CheckedAudio, *, uploader, title: str, main_artists: Sequence[Party]
) -> None:
    checked.fingerprint = fingerprint_or_error(checked.path)
    ghost_track_check(
        uploader=uploader,
        frames=checked.fingerprint,
        audio_sha256=checked.sha256,
        title=title,
        main_artists=list(main_artists),
    )


def recording_upload(
    *,
    uploader,
    audio: File,
    title: str,
    main_artists: Sequence[Party],
    featured_artists: Sequence[Party] = (),
    isrc: str | None = None,
    work_title: str | None = None,
    iswc: str | None = None,
    genre: str = "",
    mood: Iterable[str] | str | None = None,
    tempo_bpm: int | None = None,
    key: str = "",
    stems: Mapping[str, File] | None = None,
    writers: Sequence[WriterCredit] = (),
    consent: str = UploadConsent.KEEP,
) -> UploadResult:
    """The validated upload path. Every check runs before anything is stored;
    the same audio uploaded twice finds the existing recording. The artist's
    consent decision for the track is written with it, in one transaction."""
    _check_uploader(uploader, main_artists)
    title = _check_title(title)
    _check_artists(main_artists, featured_artists)
    _check_consent_and_writers(uploader, main_artists, consent, writers)
    isrc = identifier_or_error(normalize_isrc, isrc, "isrc")
    iswc = identifier_or_error(normalize_iswc, iswc, "iswc")
    key, tempo_bpm = _checked_key_and_tempo(key, tempo_bpm)
    stems = _known_stems({name: file for name, file in (stems or {}).items() if file})
    _check_isrc_is_new(isrc)
    with tempfile.TemporaryDirectory(prefix="catalog-upload-") as tmpdir:
        checked = check_audio(
            audio, name=source_name(audio, ""), field_name="audio", probe=True, tmpdir=tmpdir
        )
        # The ghost-track guard: audio held by other parties is refused and flagged
        # before anything is stored (and before the same-file shortcut below).
        _guard_against_ghost_track(
            checked, uploader=uploader, title=title, main_artists=main_artists
        )
        if existing := Recording.objects.filter(audio_sha256=checked.sha256).first():
            return UploadResult(existing, False, ["This audio is already in the catalog."])
        checked_stems = _check_upload_stems(stems, checked, tmpdir)
        return _upload_store(
            uploader=uploader,
            title=title,
            isrc=isrc,
            work_title=work_title,
            iswc=iswc,
            main_artists=main_artists,
            featured_artists=featured_artists,
            genre=genre,
            mood=mood,
            tempo_bpm=tempo_bpm,
            key=key,
            checked=checked,
            checked_stems=checked_stems,
            writers=writers,
            consent=consent,
        )


def _check_upload_stems(stems, checked: CheckedAudio, tmpdir: str) -> dict[str, CheckedAudio]:
    checked_stems = {}
    for stem_name, source in stems.items():
        stem = check_audio(
            source,
            name=source_name(source, ""),
            field_name=f"stems.{stem_name}",
            probe=True,
            tmpdir=tmpdir,
        )
        # Official stems must line up with the mix they were cut from.
        if abs(stem.duration_ms - checked.duration_ms) > max(1000, checked.duration_ms // 50):
            raise DomainError(
                f"The {stem_name} stem is not the same length as the recording.",
                fields={f"stems.{stem_name}": ["Length differs from the recording."]},
            )
        checked_stems[stem_name] = stem
    return checked_stems


def _writer_parties(
    *, uploader, writers: Sequence[WriterCredit], main_artists: Sequence[Party]
) -> list[tuple[Party, str]]:
    """Resolve each credit to a songwriter party, creating new writers."""
    resolved: dict[int, tuple[Party, str]] = {}
    for writer in writers:
        if writer.party is not None:
            party = writer.party
        elif writer.is_uploader:
            artist = _owned_main_artists(uploader, main_artists)[0]
            party = party_songwriter_for_user(user=uploader, name=artist.name)
        else:
            party = party_create(
                kind=Party.Kind.SONGWRITER, name=writer.name, ipi=writer.ipi or None
            )
        resolved.setdefault(party.pk, (party, writer.role))
    return list(resolved.values())


def _upload_consent_apply(*, uploader, recording: Recording, main_artists, consent: str):
    """Write the artist's decision for this track to the consent ledger."""
    if consent == UploadConsent.KEEP:
        return
    for party in _owned_main_artists(uploader, main_artists):
        if consent == UploadConsent.OPT_OUT:
            consent_revoke(
                party=party,
                actor=uploader,
                recording=recording,
                reason="Opted this track out of remixing when uploading it.",
            )
        else:
            wide = consent_effective(party=party, recording=None)
            consent_grant(
                party=party,
                actor=uploader,
                recording=recording,
                terms=wide.terms if wide.granted else None,
                reason="Allowed remixes of this track when uploading it.",
            )


def _upload_store(
    *, uploader, title, isrc, work_title, iswc, checked, checked_stems, writers, consent, **meta
):
    stored: list[str] = []
    try:
        with transaction.atomic():
            credits = _writer_parties(
                uploader=uploader, writers=writers, main_artists=meta["main_artists"]
            )
            work = None
            if iswc or (work_title or "").strip() or credits:
                work = work_create(
                    title=(work_title or "").strip() or title, iswc=iswc, writers=credits
                )
            recording = _save_recording(
                title=title,
                isrc=isrc,
                work=work,
                main_artists=meta["main_artists"],
                featured_artists=meta["featured_artists"],
                genre=(meta["genre"] or "").strip(),
                mood=_moods(meta["mood"]),
                tempo_bpm=meta["tempo_bpm"],
                key=meta["key"],
                duration_ms=checked.duration_ms,
                audio=checked,
                stems=checked_stems,
                created_by=uploader,
                stored=stored,
            )
            _upload_consent_apply(
                uploader=uploader,
                recording=recording,
                main_artists=meta["main_artists"],
                consent=consent,
            )
    except Exception:
        _delete_stored(stored)
        raise
    return UploadResult(recording, True)


def _delete_stored(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


@contextmanager
def _cleanup_on_error(stored: list[str]):
    """Rows roll back with the transaction; files must be removed by hand."""
    try:
        yield
    except Exception:
        _delete_stored(stored)
        raise
