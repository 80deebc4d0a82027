"""Audio handed to the catalog: streamed to a temporary file, hashed, probed and
fingerprinted, refused with a DomainError naming the form field."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np
from django.conf import settings
from django.core.files import File

from catalog import fingerprint as fp
from catalog.audio_probe import AudioLimits, AudioRejected, probe_audio, stream_to_file
from core.errors import DomainError

AudioSource = bytes | str | Path | File
logger = logging.getLogger(__name__)


def audio_chunks(source: AudioSource) -> Iterable[bytes]:
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


def source_name(source: AudioSource, fallback: str) -> str:
    if isinstance(source, str | Path):
        return PurePath(source).name
    return getattr(source, "name", None) or fallback


def audio_limits() -> AudioLimits:
    return AudioLimits(max_bytes=settings.UPLOAD_MAX_BYTES)


@dataclass
class CheckedAudio:
    """An audio file streamed to a temporary file, hashed and probed (and, for a
    recording's own audio, fingerprinted)."""

    path: Path
    name: str
    sha256: str
    duration_ms: int | None
    fingerprint: np.ndarray | None = None


def check_audio(source: AudioSource, *, name: str, field_name: str, probe: bool, tmpdir: str):
    path = Path(tmpdir) / f"{field_name.replace('.', '_')}{PurePath(name).suffix.lower()}"
    try:
        with open(path, "wb") as handle:
            _, sha256 = stream_to_file(
                audio_chunks(source), handle, max_bytes=audio_limits().max_bytes
            )
        duration_ms = (
            probe_audio(path, filename=name, limits=audio_limits()).duration_ms if probe else None
        )
    except AudioRejected as error:
        raise DomainError(
            str(error), code="invalid_audio", fields={field_name: [str(error)]}
        ) from None
    return CheckedAudio(path=path, name=name, sha256=sha256, duration_ms=duration_ms)


def fingerprint_or_error(path: Path) -> np.ndarray:
    try:
        return fp.fingerprint_file(path)
    except fp.FingerprintError as error:
        logger.error("Upload refused: %s", error)
        raise DomainError(
            "We could not check this audio against the catalog right now; please try again later.",
            code="fingerprint_unavailable",
            status_code=503,
            fields={"audio": ["Could not be checked against the catalog."]},
        ) from None


def fingerprint_or_none(path: Path) -> np.ndarray | None:
    """Recordings made by code (seed data, staff) are fingerprinted when fpcalc can."""
    try:
        return fp.fingerprint_file(path)
    except fp.FingerprintError as error:
        logger.warning("Recording stored without a fingerprint: %s", error)
        return None
