"""The ghost-track guard on the demo tracks: the same audio re-encoded, trimmed, made
quieter, resampled or delayed always matches; different tracks never do. An upload of
another artist's recording is refused and flagged for staff; a staff decision is written
to the staff audit log."""

from __future__ import annotations

import subprocess
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from catalog import fingerprint as fp
from catalog import services
from catalog.ghost_tracks import fingerprint_matches
from catalog.models import (
    FingerprintKey,
    GhostTrackFlag,
    Recording,
    RecordingFingerprint,
    StaffAuditEntry,
)
from catalog.services.ghost_tracks import ghost_track_decide
from core.errors import DomainError, PermissionDenied
from marketplace.demo.catalog_data import TRACKS

from .factories import artist_user, staff_user

SR = 44100


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def demo_audio(tmp_path_factory, demo_render) -> dict[str, Path]:
    """Each demo track as the seed makes it, plus five transformations of the first.
    (`demo_render`: the seed's own synthesis, shared with the tests that seed the demo.)"""
    root = tmp_path_factory.mktemp("demo-audio")
    files: dict[str, Path] = {}
    for track in TRACKS:
        mix = demo_render.synth_track(
            seed=track.seed,
            bpm=track.bpm,
            key=track.key,
            duration_s=track.duration_s,
            samplerate=SR,
        )["mix"]
        files[track.isrc] = root / f"{track.isrc}.flac"
        soundfile.write(files[track.isrc], mix.T, SR, format="FLAC")
    first = TRACKS[0].isrc
    original = files[first]
    mix, _ = soundfile.read(original, always_2d=True)
    files["mp3"] = root / "reencoded.mp3"
    _ffmpeg("-i", str(original), "-b:a", "128k", str(files["mp3"]))
    files["trimmed"] = root / "trimmed.wav"
    soundfile.write(files["trimmed"], mix[int(5.3 * SR) : int(20 * SR)], SR)
    files["quieter"] = root / "quieter.wav"
    soundfile.write(files["quieter"], mix * 10 ** (-12 / 20), SR)  # -12 dB
    files["resampled"] = root / "resampled.ogg"
    _ffmpeg("-i", str(original), "-ar", "22050", "-c:a", "libvorbis", str(files["resampled"]))
    files["shifted"] = root / "shifted.wav"
    silence = np.zeros((int(0.77 * SR), mix.shape[1]))
    soundfile.write(files["shifted"], np.concatenate([silence, mix]), SR)
    return files


@pytest.fixture(scope="module")
def prints(demo_audio) -> dict[str, np.ndarray]:
    return {name: fp.fingerprint_file(path) for name, path in demo_audio.items()}


TRANSFORMS = ["mp3", "trimmed", "quieter", "resampled", "shifted"]


# --- the comparison itself (no database) -------------------------------------------------


@pytest.mark.parametrize("variant", TRANSFORMS)
def test_every_transformation_matches_its_track_and_only_it(prints, variant):
    first = TRACKS[0].isrc
    query = prints[variant]
    best = fp.align(query, prints[first])
    assert best is not None and best.is_match, best
    assert best.coverage >= 0.9 and best.bit_error_rate <= 0.06
    for track in TRACKS[1:]:
        other = fp.align(query, prints[track.isrc])
        assert other is None or not other.is_match, (track.title, other)


def test_shift_and_trim_are_found_at_their_offset(prints):
    first = TRACKS[0].isrc
    assert abs(fp.align(prints["trimmed"], prints[first]).offset_s - 5.3) <= 0.25
    assert abs(fp.align(prints["shifted"], prints[first]).offset_s + 0.77) <= 0.25


def test_different_demo_tracks_never_match_each_other(prints):
    for a in TRACKS:
        for b in TRACKS:
            if a is not b:
                found = fp.align(prints[a.isrc], prints[b.isrc])
                assert found is None or not found.is_match, (a.title, b.title, found)


def test_votes_from_the_index_point_at_the_offset(prints):
    first = TRACKS[0].isrc
    hits = [(key, 1, position) for key, position in fp.index_entries(prints[first])]
    votes = fp.offset_votes(fp.query_positions(prints["trimmed"]), hits)
    (recording_id, offset), count = votes.most_common(1)[0]
    assert recording_id == 1 and count >= 3
    assert abs(offset * fp.FRAME_S - 5.3) <= 0.25


# --- uploads against the catalog -----------------------------------------------------------


def _upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


@pytest.fixture
def catalog(db, demo_audio):
    """The first demo track in the catalog, by its artist."""
    owner, party = artist_user("Nova Lane")
    recording = services.recording_create(
        title=TRACKS[0].title,
        main_artists=[party],
        audio=demo_audio[TRACKS[0].isrc].read_bytes(),
        audio_name="neon.flac",
    )
    return recording, owner, party


@pytest.mark.django_db
def test_recordings_are_stored_with_their_fingerprint_and_index(catalog):
    recording, _, _ = catalog
    stored = RecordingFingerprint.objects.get(recording=recording)
    frames = fp.frames_from_bytes(stored.frames)
    assert stored.frame_count == len(frames) > 200
    keys = FingerprintKey.objects.filter(recording=recording).count()
    assert keys == len(fp.index_entries(frames))


@pytest.mark.django_db
@pytest.mark.parametrize("variant", TRANSFORMS)
def test_upload_of_another_artists_track_is_refused_and_flagged(catalog, demo_audio, variant):
    recording, _, _ = catalog
    impostor, fake = artist_user("DJ Ghost")
    with pytest.raises(DomainError) as refused:
        services.recording_upload(
            uploader=impostor,
            audio=_upload(demo_audio[variant]),
            title="My Song",
            main_artists=[fake],
        )
    assert refused.value.code == "ghost_track" and refused.value.status_code == 409
    assert refused.value.message.startswith(
        f"This audio matches “{TRACKS[0].title}” by Nova Lane ("
    )
    assert "audio" in refused.value.fields
    assert Recording.objects.count() == 1
    flag = GhostTrackFlag.objects.get()
    assert (flag.uploader, flag.matched_recording, flag.status) == (impostor, recording, "pending")
    assert (flag.claimed_title, flag.claimed_artists) == ("My Song", "DJ Ghost")
    assert flag.coverage >= 0.9 and flag.bit_error_rate <= 0.06


@pytest.mark.django_db
def test_different_tracks_upload_fine(catalog, demo_audio):
    uploader, party = artist_user("Tidewater")
    for track in TRACKS[1:]:
        result = services.recording_upload(
            uploader=uploader,
            audio=_upload(demo_audio[track.isrc]),
            title=track.title,
            main_artists=[party],
        )
        assert result.created
    assert GhostTrackFlag.objects.count() == 0
    assert RecordingFingerprint.objects.count() == len(TRACKS)


@pytest.mark.django_db
def test_the_holder_may_upload_their_own_audio_again(catalog, demo_audio):
    _, owner, party = catalog
    result = services.recording_upload(
        uploader=owner,
        audio=_upload(demo_audio["mp3"]),
        title="Neon Tide (2025)",
        main_artists=[party],
    )
    assert result.created and GhostTrackFlag.objects.count() == 0


@pytest.mark.django_db
def test_staff_decisions_are_audited_and_allow_a_re_release(catalog, demo_audio):
    recording, _, _ = catalog
    label_user, label_artist = artist_user("Reissue Records Artist")
    with pytest.raises(DomainError):
        services.recording_upload(
            uploader=label_user,
            audio=_upload(demo_audio["mp3"]),
            title="Neon Tide",
            main_artists=[label_artist],
        )
    flag = GhostTrackFlag.objects.get()
    with pytest.raises(PermissionDenied):
        ghost_track_decide(flag=flag, staff_user=label_user, allow=True, reason="mine")
    staff = staff_user()
    with pytest.raises(DomainError) as no_reason:
        ghost_track_decide(flag=flag, staff_user=staff, allow=True, reason=" ")
    assert "reason" in no_reason.value.fields
    flag = ghost_track_decide(
        flag=flag, staff_user=staff, allow=True, reason="Licensed reissue, contract 2026-114"
    )
    assert flag.status == "allowed" and flag.decided_by == staff
    entry = StaffAuditEntry.objects.get(action="ghost_track.allow")
    assert (entry.subject_type, entry.subject_id) == ("ghost_track_flag", str(flag.pk))
    assert entry.reason == "Licensed reissue, contract 2026-114"
    assert entry.data["matched_recording_id"] == recording.pk
    with pytest.raises(DomainError) as twice:
        ghost_track_decide(flag=flag, staff_user=staff, allow=False, reason="changed my mind")
    assert twice.value.code == "already_decided"
    # Allowed: the same uploader may now upload it.
    result = services.recording_upload(
        uploader=label_user,
        audio=_upload(demo_audio["mp3"]),
        title="Neon Tide",
        main_artists=[label_artist],
    )
    assert result.created


@pytest.mark.django_db
def test_a_confirmed_refusal_keeps_refusing(catalog, demo_audio):
    impostor, fake = artist_user("DJ Ghost")
    upload = dict(uploader=impostor, title="Mine", main_artists=[fake])
    with pytest.raises(DomainError):
        services.recording_upload(audio=_upload(demo_audio["trimmed"]), **upload)
    staff = staff_user()
    ghost_track_decide(
        flag=GhostTrackFlag.objects.get(), staff_user=staff, allow=False, reason="Not theirs"
    )
    assert StaffAuditEntry.objects.filter(action="ghost_track.refuse").count() == 1
    with pytest.raises(DomainError) as again:
        services.recording_upload(audio=_upload(demo_audio["trimmed"]), **upload)
    assert again.value.code == "ghost_track"
    assert GhostTrackFlag.objects.filter(status="pending").count() == 1  # flagged again


@pytest.mark.django_db
def test_lookup_finds_the_match_among_many(catalog, demo_audio, prints):
    recording, _, _ = catalog
    rng = np.random.default_rng(7)
    for n in range(200):
        other = Recording.objects.create(title=f"Noise {n}")
        services.recording_fingerprint_store(
            recording=other, frames=rng.integers(0, 2**32, size=240, dtype=np.uint32)
        )
    matches = fingerprint_matches(frames=prints["shifted"])
    assert [m.recording for m in matches] == [recording]
    assert matches[0].evidence.startswith(f"matches “{TRACKS[0].title}” by Nova Lane, ")
    assert matches[0].evidence.endswith("% of the fingerprint")


# --- pages ---------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_upload_page_refuses_and_staff_page_decides(catalog, demo_audio):
    impostor, fake = artist_user("DJ Ghost")
    page = _client(impostor).post(
        "/catalog/artist/upload/",
        {
            "audio": _upload(demo_audio["quieter"]),
            "title": "Midnight Copy",
            "main_artists": [fake.pk],
            "consent": "keep",
        },
    )
    assert page.status_code == 400  # the form again, with the reason
    text = page.content.decode()
    assert f"This audio matches “{TRACKS[0].title}” by Nova Lane (" in text
    assert Recording.objects.count() == 1

    assert _client(impostor).get("/catalog/staff/ghost-tracks/").status_code == 403
    staff = _client(staff_user())
    listing = staff.get("/catalog/staff/ghost-tracks/").content.decode()
    flag = GhostTrackFlag.objects.get()
    assert "“Midnight Copy” as DJ Ghost" in listing
    assert (
        f"matches “{TRACKS[0].title}” by Nova Lane, {flag.coverage:.0%} of the fingerprint"
        in listing
    )
    no_reason = staff.post(
        "/catalog/staff/ghost-tracks/", {"flag": flag.pk, "decision": "refuse"}, follow=True
    )
    assert "Give a reason for the decision." in no_reason.content.decode()
    done = staff.post(
        "/catalog/staff/ghost-tracks/",
        {"flag": flag.pk, "decision": "refuse", "reason": "Uploader is not Nova Lane"},
        follow=True,
    )
    assert "“Midnight Copy”: refusal confirmed." in done.content.decode()
    assert "No flagged uploads are waiting." in done.content.decode()
    entry = StaffAuditEntry.objects.get()
    assert (entry.action, entry.reason) == ("ghost_track.refuse", "Uploader is not Nova Lane")
    assert (
        entry.data["coverage"] == flag.coverage and entry.data["claimed_title"] == "Midnight Copy"
    )


@pytest.mark.django_db
def test_fingerprint_catalog_command_fills_in_missing_fingerprints(catalog):
    recording, _, _ = catalog
    RecordingFingerprint.objects.all().delete()
    FingerprintKey.objects.all().delete()
    out = StringIO()
    call_command("fingerprint_catalog", stdout=out)
    assert "Fingerprinted 1 recordings" in out.getvalue()
    assert RecordingFingerprint.objects.get().recording == recording
    assert FingerprintKey.objects.filter(recording=recording).exists()
