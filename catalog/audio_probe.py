"""Audio file checks with ffprobe/ffmpeg, before anything is stored (no Django).

A file passes only if its real container (probed from its bytes, not its
name) matches its extension, its codec is one we accept for that container,
and its length, sample rate, channels and decoded size are within limits;
then it is decoded end to end, so a corrupt body is caught too.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO


class AudioRejected(ValueError):
    """The file is not audio we accept; the message is for the uploader."""


@dataclass(frozen=True)
class AudioLimits:
    max_bytes: int = 200 * 1024 * 1024
    min_seconds: float = 1.0
    max_seconds: float = 15 * 60
    min_sample_rate: int = 8_000
    max_sample_rate: int = 192_000
    max_channels: int = 2
    # 32-bit float samples after decoding; stops a tiny file that decodes huge.
    max_decoded_bytes: int = 1024 * 1024 * 1024


@dataclass(frozen=True)
class AudioInfo:
    container: str
    codec: str
    duration_ms: int
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class _Format:
    label: str
    format_names: frozenset[str]
    codecs: frozenset[str]


_PCM = frozenset({"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8"})
_MP4 = frozenset({"mov,mp4,m4a,3gp,3g2,mj2"})
FORMATS: dict[str, _Format] = {
    ".wav": _Format("WAV", frozenset({"wav"}), _PCM),
    ".flac": _Format("FLAC", frozenset({"flac"}), frozenset({"flac"})),
    ".mp3": _Format("MP3", frozenset({"mp3"}), frozenset({"mp3"})),
    ".ogg": _Format("OGG", frozenset({"ogg"}), frozenset({"vorbis", "opus", "flac"})),
    ".oga": _Format("OGG", frozenset({"ogg"}), frozenset({"vorbis", "opus", "flac"})),
    ".m4a": _Format("M4A", _MP4, frozenset({"aac", "alac"})),
}
ALLOWED_EXTENSIONS = tuple(FORMATS)
# Decoder warnings that mean damaged audio (benign ones, like an estimated
# duration, do not match).
_DAMAGE = re.compile(r"error|invalid|corrupt|truncat|overread|incomplete|damaged", re.I)


def stream_to_file(
    chunks: Iterable[bytes], destination: BinaryIO, *, max_bytes: int
) -> tuple[int, str]:
    """Copy chunks, refusing as soon as the size cap is passed; returns (size, sha256)."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise AudioRejected(
                f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit."
            )
        digest.update(chunk)
        destination.write(chunk)
    destination.flush()
    if size == 0:
        raise AudioRejected("The file is empty.")
    return size, digest.hexdigest()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed; audio cannot be checked.")
    return path


def _ffprobe(path: Path) -> dict:
    argv = [
        _tool("ffprobe"),
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        str(path),
    ]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        raise AudioRejected("The file took too long to read; it may be damaged.") from None
    if done.returncode != 0:
        raise AudioRejected("This file could not be read as audio; it may be damaged or not audio.")
    try:
        return json.loads(done.stdout or b"{}")
    except ValueError:
        raise AudioRejected("This file could not be read as audio.") from None


def _decode_fully(path: Path, *, timeout: int) -> None:
    argv = [
        _tool("ffmpeg"),
        "-nostdin",
        "-v",
        "warning",
        # Check frame CRCs and bitstreams: some decoders only warn on damage.
        "-err_detect",
        "crccheck+bitstream+buffer+explode",
        "-xerror",
        "-i",
        str(path),
        "-map",
        "0:a:0",
        "-f",
        "null",
        "-",
    ]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AudioRejected("The audio took too long to decode.") from None
    damage = _DAMAGE.search(done.stderr.decode(errors="replace"))
    if done.returncode != 0 or damage:
        raise AudioRejected("The audio is damaged: it does not decode cleanly.")


def _single_audio_stream(probed: dict) -> dict:
    """The file's one audio stream; cover art is allowed, any other stream is not."""
    streams = probed.get("streams") or []
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    pictures = [
        s
        for s in streams
        if s.get("codec_type") == "video" and (s.get("disposition") or {}).get("attached_pic")
    ]
    others = [s for s in streams if s not in audio and s not in pictures]
    if len(audio) != 1 or others:
        raise AudioRejected("The file must hold exactly one audio stream and no video.")
    return audio[0]


def _check_limits(limits: AudioLimits, *, duration: float, sample_rate: int, channels: int) -> None:
    # The shape of the audio first: a 200-channel file is refused for its
    # channels, whatever its length (its few seconds fill the size cap).
    if not 1 <= channels <= limits.max_channels:
        raise AudioRejected(f"The file has {channels} channels: upload mono or stereo audio.")
    if not limits.min_sample_rate <= sample_rate <= limits.max_sample_rate:
        raise AudioRejected(f"Sample rate {sample_rate} Hz is outside what we accept.")
    if duration < limits.min_seconds:
        raise AudioRejected(f"The audio is too short (at least {limits.min_seconds:g} s).")
    if duration > limits.max_seconds:
        raise AudioRejected(f"The audio is too long (at most {limits.max_seconds / 60:g} minutes).")
    if duration * sample_rate * channels * 4 > limits.max_decoded_bytes:
        raise AudioRejected("The audio would be too large once decoded.")


def probe_audio(
    path: Path, *, filename: str, limits: AudioLimits = AudioLimits(), decode: bool = True
) -> AudioInfo:
    """Check a file already on disk; raise AudioRejected with a reason."""
    suffix = PurePath(filename or "").suffix.lower()
    expected = FORMATS.get(suffix)
    if expected is None:
        allowed = ", ".join(sorted({f.label for f in FORMATS.values()}))
        raise AudioRejected(f"Upload a {allowed} file (this one ends in “{suffix or 'nothing'}”).")
    probed = _ffprobe(path)
    format_name = (probed.get("format") or {}).get("format_name", "")
    if format_name not in expected.format_names:
        actual = next(
            (f.label for f in FORMATS.values() if format_name in f.format_names), format_name
        )
        raise AudioRejected(
            f"The file is named {suffix} but its content is {actual or 'not audio'}; "
            "upload the original file."
        )
    stream = _single_audio_stream(probed)
    codec = stream.get("codec_name", "")
    if codec not in expected.codecs:
        raise AudioRejected(
            f"{expected.label} files with {codec or 'unknown'} audio are not accepted."
        )
    try:
        duration = float(stream.get("duration") or probed["format"].get("duration") or 0)
        sample_rate = int(stream.get("sample_rate") or 0)
        channels = int(stream.get("channels") or 0)
    except (TypeError, ValueError):
        raise AudioRejected("The file's audio details could not be read.") from None
    _check_limits(limits, duration=duration, sample_rate=sample_rate, channels=channels)
    if decode:
        _decode_fully(path, timeout=max(60, int(duration)))
    return AudioInfo(
        container=expected.label,
        codec=codec,
        duration_ms=round(duration * 1000),
        sample_rate=sample_rate,
        channels=channels,
    )
