"""A recorded cover take checked and decoded before anything is stored.

Browsers record Opus in WebM (Chromium, Firefox) or Ogg, and their WebM has no
duration in its header, so a take is not probed as uploaded: its container and
codec are read from its bytes (never its name), it must hold exactly one audio
stream, and it is decoded end to end to mono FLAC at the render's sample rate
with ffmpeg's strict error checks; the FLAC is then probed for its length like
any other upload (catalog.audio_probe). A damaged, empty, silent-video or
non-audio body is refused with a sentence the fan can read.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from catalog.audio_probe import AudioLimits, AudioRejected, probe_audio

TAKE_SAMPLERATE = 44100
# What MediaRecorder produces, and plain WAV/FLAC for other recorders.
_CONTAINERS = {"matroska,webm", "ogg", "wav", "flac"}
_CODECS = {"opus", "vorbis", "flac", "pcm_s16le", "pcm_s24le", "pcm_f32le"}
# Demuxer and decoder warnings that mean a damaged or cut-off body (ffmpeg decodes
# what it can of those and exits 0, so its words are what tell).
_DAMAGE = re.compile(r"error|invalid|corrupt|truncat|overread|incomplete|damaged|prematurely", re.I)


@dataclass(frozen=True)
class DecodedTake:
    path: Path
    duration_s: float


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed; takes cannot be checked.")
    return path


def _probe(path: Path) -> dict:
    argv = [_tool("ffprobe"), "-v", "error", "-print_format", "json"]
    argv += ["-show_format", "-show_streams", str(path)]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, check=False)
        probed = json.loads(done.stdout or b"{}") if done.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        probed = None
    if not probed:
        raise AudioRejected("The recording could not be read as audio; please record again.")
    return probed


def _check_streams(probed: dict) -> None:
    container = (probed.get("format") or {}).get("format_name", "")
    if container not in _CONTAINERS:
        raise AudioRejected("Upload the take as the studio records it (WebM or Ogg audio).")
    streams = probed.get("streams") or []
    if len(streams) != 1 or streams[0].get("codec_type") != "audio":
        raise AudioRejected("A take must hold exactly one audio stream and nothing else.")
    if streams[0].get("codec_name") not in _CODECS:
        raise AudioRejected(f"Takes recorded as {streams[0].get('codec_name')} are not accepted.")


def _decode(source: Path, target: Path, *, max_seconds: float) -> None:
    argv = [_tool("ffmpeg"), "-nostdin", "-v", "warning", "-err_detect", "crccheck+bitstream"]
    argv += ["-xerror", "-i", str(source), "-map", "0:a:0", "-t", str(max_seconds + 1)]
    argv += ["-ac", "1", "-ar", str(TAKE_SAMPLERATE), "-sample_fmt", "s16"]
    argv += ["-c:a", "flac", "-y", str(target)]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise AudioRejected("The take took too long to decode.") from None
    damaged = _DAMAGE.search(done.stderr.decode(errors="replace"))
    if done.returncode != 0 or damaged or not target.exists() or target.stat().st_size == 0:
        raise AudioRejected("The take is damaged: it does not decode cleanly. Record it again.")


def take_decode(source: Path, *, workdir: Path, max_seconds: float) -> DecodedTake:
    """Check the uploaded take at ``source`` and decode it to mono FLAC in ``workdir``.

    Raises AudioRejected (a sentence for the fan) on anything but one clean audio
    stream between 1 second and ``max_seconds`` long.
    """
    _check_streams(_probe(source))
    target = workdir / "take.flac"
    _decode(source, target, max_seconds=max_seconds)
    limits = AudioLimits(min_seconds=1.0, max_seconds=max_seconds, max_channels=1)
    info = probe_audio(target, filename=target.name, limits=limits)
    return DecodedTake(path=target, duration_s=info.duration_ms / 1000)
