"""Upload validation over a corpus of good and malformed audio the tests generate."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services
from catalog.models import OfficialStem, Recording
from core.errors import DomainError, PermissionDenied

from .factories import UserFactory, artist_user

pytestmark = [
    pytest.mark.django_db,
]


def _ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("audio")
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=44100"]
    files = {}
    for name, extra in {
        "good.wav": ["-ac", "2"],
        "good.flac": [],
        "good.mp3": ["-codec:a", "libmp3lame"],
        "good.ogg": ["-codec:a", "libvorbis"],
        "good.m4a": ["-codec:a", "aac"],
    }.items():
        _ffmpeg(*tone, *extra, str(root / name))
        files[name] = root / name
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:duration=2:sample_rate=44100",
        str(root / "other.wav"),
    )
    files["other.wav"] = root / "other.wav"
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=0.4", str(root / "short.wav"))
    files["short.wav"] = root / "short.wav"
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=8000:cl=mono",
        "-t",
        "960",
        "-c:a",
        "pcm_u8",
        str(root / "long.wav"),
    )
    files["long.wav"] = root / "long.wav"
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=2", "-ac", "6", str(root / "surround.wav"))
    files["surround.wav"] = root / "surround.wav"
    # Many channels, and short too: the channel count is what to tell the uploader.
    soundfile.write(root / "many.wav", np.zeros((3_200, 200), dtype=np.int16), 8_000)
    files["many.wav"] = root / "many.wav"
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=2:size=64x64:rate=10",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=2",
        "-shortest",
        "-c:v",
        "mpeg4",
        "-c:a",
        "aac",
        str(root / "video.m4a"),
    )
    files["video.m4a"] = root / "video.m4a"
    (root / "empty.wav").write_bytes(b"")
    files["empty.wav"] = root / "empty.wav"
    (root / "text.mp3").write_text("this is not audio at all\n" * 100)
    files["text.mp3"] = root / "text.mp3"
    # An MP3 wearing a .wav name.
    shutil.copy(files["good.mp3"], root / "disguised.wav")
    files["disguised.wav"] = root / "disguised.wav"
    # A FLAC whose frames are overwritten with garbage.
    data = bytearray(files["good.flac"].read_bytes())
    for offset in range(len(data) // 3, len(data) - 16, 97):
        data[offset : offset + 8] = b"\xff\x00\xde\xad\xbe\xef\x13\x37"
    (root / "corrupt.flac").write_bytes(bytes(data))
    files["corrupt.flac"] = root / "corrupt.flac"
    # A WAV header promising far more than the body holds.
    (root / "truncated.wav").write_bytes(files["good.wav"].read_bytes()[:60])
    files["truncated.wav"] = root / "truncated.wav"
    return files


def _upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


@pytest.mark.parametrize("name", ["good.wav", "good.flac", "good.mp3", "good.ogg", "good.m4a"])
def test_good_audio_is_stored_with_hash_and_duration(corpus, name):
    user, party = artist_user()
    result = services.recording_upload(
        uploader=user,
        audio=_upload(corpus[name]),
        title="Tone",
        main_artists=[party],
        isrc="US-AB1-24-00001",
        work_title="Tone",
        iswc="T-034.524.680-1",
        tempo_bpm=120,
        key="am",
    )
    recording = result.recording
    assert result.created
    assert 1900 <= recording.duration_ms <= 2200
    assert len(recording.audio_sha256) == 64
    assert recording.audio.name.startswith("catalog/recordings/")
    assert name.split(".")[0] not in recording.audio.name.rsplit("/", 1)[1]  # generated name
    assert recording.key == "A minor" and recording.work.iswc == "T0345246801"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.wav", "empty"),
        ("text.mp3", "could not be read"),
        ("disguised.wav", "content is MP3"),
        ("corrupt.flac", "damaged"),
        ("truncated.wav", ""),
        ("short.wav", "too short"),
        ("long.wav", "too long"),
        ("surround.wav", "mono or stereo"),
        ("many.wav", "200 channels"),
        ("video.m4a", "no video"),
    ],
)
def test_bad_audio_is_refused_and_nothing_is_stored(corpus, name, message, settings):
    user, party = artist_user()
    with pytest.raises(DomainError) as error:
        services.recording_upload(
            uploader=user, audio=_upload(corpus[name]), title="Bad", main_artists=[party]
        )
    assert "audio" in error.value.fields
    assert message in error.value.message
    assert not Recording.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.*"))


def test_wrong_extension_is_refused(corpus):
    user, party = artist_user()
    with pytest.raises(DomainError, match="Upload a"):
        services.recording_upload(
            uploader=user,
            audio=_upload(corpus["good.wav"], "tone.exe"),
            title="X",
            main_artists=[party],
        )


def test_size_cap_is_enforced_while_streaming(corpus, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    user, party = artist_user()
    with pytest.raises(DomainError, match="larger"):
        services.recording_upload(
            uploader=user, audio=_upload(corpus["good.wav"]), title="Big", main_artists=[party]
        )


def test_same_audio_twice_finds_the_existing_recording(corpus):
    user, party = artist_user()
    first = services.recording_upload(
        uploader=user, audio=_upload(corpus["good.flac"]), title="One", main_artists=[party]
    )
    again = services.recording_upload(
        uploader=user,
        audio=_upload(corpus["good.flac"], "renamed.flac"),
        title="Two",
        main_artists=[party],
    )
    assert not again.created and again.recording == first.recording
    assert Recording.objects.count() == 1


def test_official_stems_are_checked_and_stored(corpus):
    user, party = artist_user()
    result = services.recording_upload(
        uploader=user,
        audio=_upload(corpus["good.wav"]),
        title="Stems",
        main_artists=[party],
        stems={"vocals": _upload(corpus["other.wav"]), "drums": _upload(corpus["good.flac"])},
    )
    assert set(result.recording.stems.values_list("name", flat=True)) == {"vocals", "drums"}
    with pytest.raises(DomainError) as error:
        services.recording_upload(
            uploader=user,
            audio=_upload(corpus["good.mp3"]),
            title="Bad stem",
            main_artists=[party],
            stems={"bass": _upload(corpus["short.wav"])},
        )
    assert "stems.bass" in error.value.fields
    assert OfficialStem.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value"), [("isrc", "XX-1"), ("iswc", "T-034.524.680-2"), ("key", "H major")]
)
def test_bad_metadata_is_a_field_error(corpus, field, value):
    user, party = artist_user()
    with pytest.raises(DomainError) as error:
        services.recording_upload(
            uploader=user,
            audio=_upload(corpus["good.wav"]),
            title="X",
            main_artists=[party],
            **{field: value},
        )
    assert field in error.value.fields
    assert not Recording.objects.exists()


def test_only_verified_artists_or_labels_upload(corpus):
    _, party = artist_user()
    with pytest.raises(PermissionDenied):
        services.recording_upload(
            uploader=UserFactory(),
            audio=_upload(corpus["good.wav"]),
            title="X",
            main_artists=[party],
        )
    other, _ = artist_user("Other")
    with pytest.raises(DomainError) as error:
        services.recording_upload(
            uploader=other, audio=_upload(corpus["good.wav"]), title="X", main_artists=[party]
        )
    assert "main_artists" in error.value.fields
    label_user, _ = artist_user("Label", kind="label")
    assert services.recording_upload(
        uploader=label_user, audio=_upload(corpus["good.wav"]), title="X", main_artists=[party]
    ).created
