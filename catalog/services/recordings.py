"""Recordings: created by code (seed data, staff) or uploaded by rights holders."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from catalog.audio_probe import AudioLimits, AudioRejected, probe_audio, stream_to_file
from catalog.errors import DomainError, PermissionDenied
from catalog.identifiers import normalize_isrc, normalize_iswc, normalize_musical_key
from catalog.models import OfficialStem, Party, Recording, RecordingArtist, Work
from catalog.selectors import party_list_owned

from ._common import identifier_or_error
from .works import work_create

AudioSource = bytes | str | Path | File


def _chunks(source: AudioSource) -> Iterable[bytes]:
    if isinstance(source, bytes):
        yield source
    elif isinstance(source, str | Path):
        with open(source, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk
    else:
        if hasattr(source, "seek"):
            source.seek(0)
        yield from source.chunks()


def _source_name(source: AudioSource, fallback: str) -> str:
    if isinstance(source, str | Path):
        return PurePath(source).name
    return getattr(source, "name", None) or fallback


def audio_limits() -> AudioLimits:
    return AudioLimits(max_bytes=getattr(settings, "UPLOAD_MAX_BYTES", AudioLimits.max_bytes))


@dataclass
class CheckedAudio:
    """An audio file streamed to a temporary file, hashed and probed."""

    path: Path
    name: str
    sha256: str
    duration_ms: int | None


def _check_audio(source: AudioSource, *, name: str, field_name: str, probe: bool, tmpdir: str):
    path = Path(tmpdir) / f"{field_name.replace('.', '_')}{PurePath(name).suffix.lower()}"
    try:
        with open(path, "wb") as handle:
            _, sha256 = stream_to_file(_chunks(source), handle, max_bytes=audio_limits().max_bytes)
        duration_ms = (
            probe_audio(path, filename=name, limits=audio_limits()).duration_ms if probe else None
        )
    except AudioRejected as error:
        raise DomainError(
            str(error), code="invalid_audio", fields={field_name: [str(error)]}
        ) from None
    return CheckedAudio(path=path, name=name, sha256=sha256, duration_ms=duration_ms)


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
    credits = [(party, RecordingArtist.Role.MAIN) for party in main_artists]
    credits += [(party, RecordingArtist.Role.FEATURED) for party in featured_artists]
    RecordingArtist.objects.bulk_create(
        RecordingArtist(recording=recording, party=party, role=role, order=order)
        for order, (party, role) in enumerate(credits)
    )
    for stem_name, stem in stems.items():
        official = OfficialStem(
            recording=recording, name=stem_name, sha256=stem.sha256, duration_ms=stem.duration_ms
        )
        with open(stem.path, "rb") as handle:
            official.file.save(stem.name, File(handle), save=False)
        stored.append(official.file.name)
        official.save()
    return recording


def _check_stem_names(stems: Mapping[str, object]) -> None:
    for name in stems:
        if name not in OfficialStem.Name.values:
            raise DomainError(
                f"Unknown stem {name!r}.", fields={f"stems.{name}": ["Unknown stem name."]}
            )


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
    title = (title or "").strip()
    if not title:
        raise DomainError("A recording needs a title.", fields={"title": ["Enter a title."]})
    isrc = identifier_or_error(normalize_isrc, isrc, "isrc")
    if isrc and (existing := Recording.objects.filter(isrc=isrc).first()):
        return existing
    key = identifier_or_error(normalize_musical_key, key, "key") or ""
    tempo_bpm = _tempo_or_error(tempo_bpm)
    _check_artists(main_artists, featured_artists)
    stems = dict(stems or {})
    _check_stem_names(stems)
    stored: list[str] = []
    with tempfile.TemporaryDirectory(prefix="catalog-") as tmpdir, _cleanup_on_error(stored):
        checked = None
        if audio is not None:
            name = audio_name or _source_name(audio, "audio.wav")
            checked = _check_audio(
                audio, name=name, field_name="audio", probe=probe or not duration_ms, tmpdir=tmpdir
            )
            if existing := Recording.objects.filter(audio_sha256=checked.sha256).first():
                return existing
            duration_ms = duration_ms or checked.duration_ms
        checked_stems = {
            stem_name: _check_audio(
                source,
                name=_source_name(source, f"{stem_name}.wav"),
                field_name=f"stems.{stem_name}",
                probe=probe,
                tmpdir=tmpdir,
            )
            for stem_name, source in stems.items()
        }
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
) -> UploadResult:
    """The validated upload path. Every check runs before anything is stored;
    the same audio uploaded twice finds the existing recording."""
    _check_uploader(uploader, main_artists)
    title = (title or "").strip()
    if not title:
        raise DomainError("A recording needs a title.", fields={"title": ["Enter a title."]})
    _check_artists(main_artists, featured_artists)
    isrc = identifier_or_error(normalize_isrc, isrc, "isrc")
    iswc = identifier_or_error(normalize_iswc, iswc, "iswc")
    key = identifier_or_error(normalize_musical_key, key, "key") or ""
    tempo_bpm = _tempo_or_error(tempo_bpm)
    stems = {name: file for name, file in (stems or {}).items() if file}
    _check_stem_names(stems)
    if isrc and Recording.objects.filter(isrc=isrc).exists():
        raise DomainError(
            "A recording with this ISRC is already in the catalog.",
            code="duplicate_isrc",
            fields={"isrc": ["Already in the catalog."]},
        )
    with tempfile.TemporaryDirectory(prefix="catalog-upload-") as tmpdir:
        checked = _check_audio(
            audio, name=_source_name(audio, ""), field_name="audio", probe=True, tmpdir=tmpdir
        )
        if existing := Recording.objects.filter(audio_sha256=checked.sha256).first():
            return UploadResult(existing, False, ["This audio is already in the catalog."])
        checked_stems = {}
        for stem_name, source in stems.items():
            stem = _check_audio(
                source,
                name=_source_name(source, ""),
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
        )


def _upload_store(*, uploader, title, isrc, work_title, iswc, checked, checked_stems, **meta):
    stored: list[str] = []
    try:
        with transaction.atomic():
            work = None
            if iswc or (work_title or "").strip():
                work = work_create(title=(work_title or "").strip() or title, iswc=iswc)
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
