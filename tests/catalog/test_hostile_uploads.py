"""A corpus of hostile uploads, sent through the upload page as a verified
artist would send them: zero bytes, truncated bodies, forged headers and wrong
magic, absurd durations, channel counts and sample rates, a decompression bomb,
an oversize body, archives, markup and programs renamed as audio, and hostile
file names. Each is refused with 400 and a sentence that says what is wrong;
nothing is stored (no recording, no file under MEDIA_ROOT). Good audio under a
hostile name is stored under a name the site makes, never the one given.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.models import Recording

from .factories import artist_user

pytestmark = pytest.mark.django_db

URL = reverse("catalog:recording_upload")


def _ffmpeg(out: Path, *args: str) -> bytes:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True)
    return out.read_bytes()


def _wav_header(
    *,
    channels: int = 2,
    rate: int = 44_100,
    bits: int = 16,
    fmt: int = 1,
    data_bytes: int = 0,
    riff_size: int | None = None,
) -> bytes:
    block = max(1, channels * bits // 8)
    byte_rate = (rate * block) & 0xFFFFFFFF  # forged headers overflow it: keep 32 bits
    fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, byte_rate, block & 0xFFFF, bits)
    riff = riff_size if riff_size is not None else 36 + data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff & 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt_chunk
        + b"data"
        + struct.pack("<I", data_bytes & 0xFFFFFFFF)
    )


def _zip(member: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("song.wav", member)
    return buffer.getvalue()


def _tar(member: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("song.wav")
        info.size = len(member)
        archive.addfile(info, io.BytesIO(member))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, tuple[str, bytes]]:
    """name -> (file name sent, bytes): at least 40 hostile uploads."""
    root = tmp_path_factory.mktemp("hostile")
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=44100"]
    wav = _ffmpeg(root / "good.wav", *tone, "-ac", "2")
    mp3 = _ffmpeg(root / "good.mp3", *tone, "-codec:a", "libmp3lame")
    flac = _ffmpeg(root / "good.flac", *tone)
    ogg = _ffmpeg(root / "good.ogg", *tone, "-codec:a", "libvorbis")
    silence = ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono"]
    long_flac = _ffmpeg(root / "long.flac", *silence, "-t", "1000")  # 16+ min: a tiny bomb
    surround = _ffmpeg(root / "six.wav", "-f", "lavfi", "-i", "sine=duration=2", "-ac", "6")
    low_rate = _ffmpeg(root / "low.wav", "-f", "lavfi", "-i", "sine=duration=2:sample_rate=4000")
    short = _ffmpeg(root / "short.wav", "-f", "lavfi", "-i", "sine=duration=0.3")
    video = _ffmpeg(
        root / "video.m4a",
        *["-f", "lavfi", "-i", "testsrc=duration=2:size=64x64:rate=10"],
        *["-f", "lavfi", "-i", "sine=duration=2", "-shortest", "-c:v", "mpeg4", "-c:a", "aac"],
    )
    garbage = os.urandom(64 * 1024)
    html = b"<!doctype html><html><body><script>alert(1)</script></body></html>" * 50
    files: dict[str, tuple[str, bytes]] = {
        "zero bytes wav": ("empty.wav", b""),
        "zero bytes mp3": ("empty.mp3", b""),
        "one byte": ("one.flac", b"\x00"),
        "wav header only": ("header.wav", wav[:44]),
        "truncated wav": ("cut.wav", wav[:60]),
        "truncated mp3": ("cut.mp3", mp3[:300]),
        "truncated flac": ("cut.flac", flac[:120]),
        "truncated ogg": ("cut.ogg", ogg[:200]),
        "riff size forged huge": ("forged.wav", _wav_header(riff_size=0xFFFFFFFF) + wav[44:]),
        "data size forged 4 GB": (
            "forged-data.wav",
            _wav_header(data_bytes=0xFFFFFFF0) + b"\0" * 64,
        ),
        "zero channels": ("zero-ch.wav", _wav_header(channels=0, data_bytes=4000) + b"\0" * 4000),
        "65535 channels": (
            "many-ch.wav",
            _wav_header(channels=65535, data_bytes=4000) + b"\0" * 4000,
        ),
        "zero sample rate": ("zero-rate.wav", _wav_header(rate=0, data_bytes=4000) + b"\0" * 4000),
        "4 GHz sample rate": (
            "huge-rate.wav",
            _wav_header(rate=4_000_000_000, data_bytes=4000) + b"\0" * 4000,
        ),
        "1 Hz sample rate": ("one-hz.wav", _wav_header(rate=1, data_bytes=4000) + b"\0" * 4000),
        "zero bits per sample": (
            "zero-bits.wav",
            _wav_header(bits=0, data_bytes=4000) + b"\0" * 4000,
        ),
        "unknown wav codec": ("codec.wav", _wav_header(fmt=0x1234, data_bytes=4000) + b"\0" * 4000),
        "random bytes wav": ("noise.wav", garbage),
        "random bytes flac": ("noise.flac", garbage),
        "id3 then garbage": ("tagged.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + garbage),
        "flac magic then garbage": ("magic.flac", b"fLaC" + garbage),
        "ogg magic then garbage": ("magic.ogg", b"OggS" + garbage),
        "mp3 named wav": ("disguised.wav", mp3),
        "flac named mp3": ("disguised.mp3", flac),
        "wav named ogg": ("disguised.ogg", wav),
        "zip named wav": ("archive.wav", _zip(wav)),
        "gzip named mp3": ("archive.mp3", gzip.compress(mp3)),
        "tar named flac": ("archive.flac", _tar(flac)),
        "html named wav": ("page.wav", html),
        "svg named mp3": (
            "image.mp3",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>' * 40,
        ),
        "pdf named wav": ("doc.wav", b"%PDF-1.7\n" + garbage),
        "png named flac": ("picture.flac", b"\x89PNG\r\n\x1a\n" + garbage),
        "elf named wav": ("program.wav", b"\x7fELF\x02\x01\x01" + garbage),
        "json named ogg": ("data.ogg", b'{"audio": true}' * 100),
        "video in m4a": ("video.m4a", video),
        "sixteen minutes (decompression bomb)": ("long.flac", long_flac),
        "six channels": ("six.wav", surround),
        "4 kHz sample rate": ("low.wav", low_rate),
        "too short": ("short.wav", short),
        "audio under a program's name": ("song.exe", wav),
        "double extension": ("song.wav.exe", wav),
        "no extension": ("song", wav),
        "traversal name, bad body": ("../../../../etc/passwd.wav", garbage),
        "unicode name, bad body": ("\u202egnp.wav", html),
        "very long name, bad body": ("a" * 600 + ".wav", b""),
    }
    assert len(files) >= 40
    return files


@pytest.fixture(scope="module")
def good_wav(tmp_path_factory) -> bytes:
    return _ffmpeg(
        tmp_path_factory.mktemp("good") / "tone.wav", "-f", "lavfi", "-i", "sine=duration=2"
    )


@pytest.fixture
def uploader(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    user, party = artist_user("Hostile Test Artist")
    services.consent_grant(party=party, actor=user, terms={}, reason="opt in")
    client = Client()
    client.force_login(user)
    return client, party, Path(settings.MEDIA_ROOT)


def _post(client: Client, party, name: str, body: bytes):
    data = {
        "audio": SimpleUploadedFile(name, body),
        "title": "Hostile",
        "main_artists": [party.pk],
        "consent": "keep",
    }
    return client.post(URL, data)


def _stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.mark.parametrize(
    "case",
    [
        "zero bytes wav",
        "zero bytes mp3",
        "one byte",
        "wav header only",
        "truncated wav",
        "truncated mp3",
        "truncated flac",
        "truncated ogg",
        "riff size forged huge",
        "data size forged 4 GB",
        "zero channels",
        "65535 channels",
        "zero sample rate",
        "4 GHz sample rate",
        "1 Hz sample rate",
        "zero bits per sample",
        "unknown wav codec",
        "random bytes wav",
        "random bytes flac",
        "id3 then garbage",
        "flac magic then garbage",
        "ogg magic then garbage",
        "mp3 named wav",
        "flac named mp3",
        "wav named ogg",
        "zip named wav",
        "gzip named mp3",
        "tar named flac",
        "html named wav",
        "svg named mp3",
        "pdf named wav",
        "png named flac",
        "elf named wav",
        "json named ogg",
        "video in m4a",
        "sixteen minutes (decompression bomb)",
        "six channels",
        "4 kHz sample rate",
        "too short",
        "audio under a program's name",
        "double extension",
        "no extension",
        "traversal name, bad body",
        "unicode name, bad body",
        "very long name, bad body",
    ],
)
def test_hostile_upload_is_refused_in_plain_words_and_nothing_is_stored(corpus, uploader, case):
    client, party, media = uploader
    name, body = corpus[case]
    response = _post(client, party, name, body)
    assert response.status_code == 400, (case, response.status_code)
    page = response.content.decode()
    assert 'role="alert"' in page or 'class="errorlist' in page, case
    assert "Traceback" not in page and "ffprobe" not in page.lower(), case
    assert not Recording.objects.exists(), case
    assert _stored_files(media) == [], (case, _stored_files(media))


def test_every_corpus_case_is_tried(corpus):
    tried = test_hostile_upload_is_refused_in_plain_words_and_nothing_is_stored.pytestmark
    cases = next(m.args[1] for m in tried if m.name == "parametrize")
    assert sorted(cases) == sorted(corpus)


def test_oversize_body_is_refused_while_streaming(corpus, uploader, settings):
    settings.UPLOAD_MAX_BYTES = 50_000
    client, party, media = uploader
    response = _post(client, party, "big.wav", os.urandom(200_000))
    assert response.status_code == 400
    assert "The file is larger than the upload limit" in response.content.decode()
    assert not Recording.objects.exists()
    assert _stored_files(media) == []


@pytest.mark.parametrize(
    "name",
    [
        "../../../../tmp/evil.wav",
        "..\\..\\evil.wav",
        "\u202egnp.wav",
        "tone\u0000.wav",
        "é" * 200 + ".wav",
    ],
)
def test_good_audio_under_a_hostile_name_is_stored_under_a_safe_name(good_wav, uploader, name):
    client, party, media = uploader
    response = _post(client, party, name, good_wav)
    if response.status_code == 400:  # a NUL in the name: refused as such, nothing stored
        assert "NUL" in response.content.decode()
        assert not Recording.objects.exists()
        return
    assert response.status_code == 302, response.status_code
    recording = Recording.objects.get()
    stored = Path(recording.audio.path).resolve()
    assert stored.is_relative_to(media.resolve())
    assert ".." not in recording.audio.name and "evil" not in recording.audio.name
    assert "\u202e" not in recording.audio.name and "é" not in recording.audio.name
    assert _stored_files(media) == [stored]
