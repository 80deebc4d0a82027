"""Reading, writing and encoding audio files, always atomically.

Audio in memory is ``float32`` shaped ``(channels, samples)``. Every writer stages its output
in a temporary file *in the destination directory* (so the final ``os.replace`` is an atomic
rename on the same filesystem) and removes the temporary on any error: a reader never sees a
half-written file, and a crashed render leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import math
import os
import secrets
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
from scipy import signal

from .analysis import as_2d

# Formats pedalboard's bundled decoders read sample-accurately; anything else goes to
# ffmpeg. MP3 is deliberately ffmpeg-only: pedalboard keeps the encoder delay/padding
# (~1-2k samples), which would shift separated stems against the original; ffmpeg honours
# the LAME gapless header. M4A/AAC and Ogg Opus are not in pedalboard's decoders at all.
_PEDALBOARD_READ = {".wav", ".flac", ".ogg", ".aif", ".aiff"}
_LOSSLESS_WRITE = {".wav": "WAV", ".flac": "FLAC"}
FFMPEG = "ffmpeg"  # found on PATH
FFPROBE = "ffprobe"
_HASH_CHUNK = 1 << 20
_PIPE_CHUNK = 1 << 20
ENCODE_TIMEOUT_S = 900.0
logger = logging.getLogger(__name__)


class AudioIOError(Exception):
    """Base class for audio file errors; the message is safe to show to a user."""


class AudioDecodeError(AudioIOError):
    """A file could not be decoded (missing, corrupt, unsupported or empty)."""


class AudioEncodeError(AudioIOError):
    """Encoding or writing a file failed; no output was left behind."""


@dataclass(frozen=True)
class AudioInfo:
    samplerate: int
    channels: int
    duration_s: float
    codec: str


# ---------------------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------------------


def _temp_path_for(dest: Path) -> Path:
    # Same directory => same filesystem => os.replace is atomic. Keeping the real suffix
    # lets soundfile/mutagen infer the container from the temp name. The leading dot and
    # ".part" marker make strays obvious (and easy to ignore in storage listings).
    token = secrets.token_hex(6)
    return dest.with_name(f".{dest.stem}.{token}.part{dest.suffix}")


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextlib.contextmanager
def atomic_output(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path next to ``dest``; move it into place only if the block succeeds.

    >>> with atomic_output("out/song.wav") as tmp:
    ...     write_something(tmp)
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path_for(dest)
    try:
        yield tmp
        if not tmp.exists():
            raise AudioEncodeError(f"nothing was written for {dest.name}")
        os.replace(tmp, dest)
    except BaseException:
        _unlink_quietly(tmp)
        raise


class StagedOutputs:
    """Several files that must appear together or not at all (e.g. mp3 + ogg of a render).

    ``stage(dest)`` hands out temp paths; ``commit()`` renames them all into place. If the
    surrounding ``with`` block raises, every temp is removed, and any file this batch had
    already committed is removed too, so a failed render leaves no output at all.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self._committed: list[Path] = []

    def stage(self, dest: str | os.PathLike[str]) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_path_for(dest)
        self._pending.append((tmp, dest))
        return tmp

    def commit(self) -> list[Path]:
        for tmp, dest in self._pending:
            if not tmp.exists():
                raise AudioEncodeError(f"nothing was written for {dest.name}")
        for tmp, dest in self._pending:
            os.replace(tmp, dest)
            self._committed.append(dest)
        self._pending = []
        return list(self._committed)

    def discard(self) -> None:
        for tmp, _dest in self._pending:
            _unlink_quietly(tmp)
        for dest in self._committed:
            _unlink_quietly(dest)
        self._pending, self._committed = [], []

    def __enter__(self) -> StagedOutputs:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.discard()
        else:
            # Leaving the block without commit() means the caller gave up: clean up.
            for tmp, _dest in self._pending:
                _unlink_quietly(tmp)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy), float32 out. A no-op when the rates match."""
    audio = as_2d(audio)
    if from_rate == to_rate:
        return audio.astype(np.float32, copy=False)
    g = math.gcd(int(from_rate), int(to_rate))
    up, down = int(to_rate) // g, int(from_rate) // g
    resampled: np.ndarray = signal.resample_poly(audio, up, down, axis=-1).astype(np.float32)
    return resampled


def _match_channels(audio: np.ndarray, channels: int | None) -> np.ndarray:
    if channels is None or audio.shape[0] == channels:
        return audio
    if audio.shape[0] == 1:
        return np.repeat(audio, channels, axis=0)
    if channels == 1:
        mono: np.ndarray = audio.mean(axis=0, keepdims=True)
        return mono
    if audio.shape[0] > channels:
        return audio[:channels]
    raise AudioDecodeError(f"cannot map {audio.shape[0]} channels to {channels}")


def _read_with_pedalboard(path: Path) -> tuple[np.ndarray, int]:
    from pedalboard.io import AudioFile  # local: keeps import of this module cheap

    with AudioFile(str(path)) as f:
        samplerate = round(f.samplerate)
        data = f.read(f.frames)
    return np.ascontiguousarray(data, dtype=np.float32), samplerate


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Stream parameters of the first audio stream via ffprobe."""
    path = Path(path)
    cmd = [
        FFPROBE, "-v", "error", "-select_streams", "a:0",
        "-show_entries", "stream=sample_rate,channels,codec_name:format=duration",
        "-of", "json", str(path),
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, check=True, timeout=60)
        info = json.loads(proc.stdout or b"{}")
        stream = info["streams"][0]
        duration = float(info.get("format", {}).get("duration") or 0.0)
        return AudioInfo(
            samplerate=int(stream["sample_rate"]),
            channels=int(stream["channels"]),
            duration_s=duration,
            codec=str(stream.get("codec_name", "")),
        )
    except FileNotFoundError as exc:
        raise AudioDecodeError("ffprobe is not installed") from exc
    except (subprocess.SubprocessError, KeyError, IndexError, ValueError) as exc:
        raise AudioDecodeError(f"{path.name}: not a readable audio file") from exc


def _read_with_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    info = probe(path)
    cmd = [
        FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
        "-f", "f32le", "-acodec", "pcm_f32le", "-",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, check=True, timeout=600)
    except FileNotFoundError as exc:
        raise AudioDecodeError("ffmpeg is not installed") from exc
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise AudioDecodeError(f"{path.name}: ffmpeg could not decode it ({detail[0]})") from exc
    raw = np.frombuffer(proc.stdout, dtype="<f4")
    usable = raw.size - raw.size % info.channels
    data = raw[:usable].reshape(-1, info.channels).T
    return np.ascontiguousarray(data, dtype=np.float32), info.samplerate


def load_audio(
    path: str | os.PathLike[str],
    *,
    samplerate: int | None = None,
    channels: int | None = None,
) -> tuple[np.ndarray, int]:
    """Decode WAV/FLAC/MP3/OGG/M4A/... to float32 ``(channels, samples)`` and its rate.

    pedalboard's in-process decoders are tried first (fast, no subprocess); ffmpeg is the
    fallback for containers they do not handle (M4A/AAC, Opus, odd WAV flavours). With
    ``samplerate``/``channels`` the result is resampled/remixed to match.
    Raises :class:`AudioDecodeError` with a readable message on any failure.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioDecodeError(f"{path.name}: file not found")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path.name}: file is empty")
    errors: list[str] = []
    data: np.ndarray | None = None
    rate = 0
    if path.suffix.lower() in _PEDALBOARD_READ:
        try:
            data, rate = _read_with_pedalboard(path)
        except Exception as exc:
            errors.append(f"pedalboard: {exc}")
    if data is None:
        try:
            data, rate = _read_with_ffmpeg(path)
        except AudioDecodeError as exc:
            errors.append(str(exc))
    if data is None:
        raise AudioDecodeError(f"{path.name}: could not decode audio ({'; '.join(errors)})")
    if data.shape[-1] == 0:
        raise AudioDecodeError(f"{path.name}: contains no audio samples")
    if not np.all(np.isfinite(data)):
        raise AudioDecodeError(f"{path.name}: contains invalid (NaN/inf) samples")
    data = _match_channels(data, channels)
    if samplerate is not None and samplerate != rate:
        data, rate = resample(data, rate, samplerate), samplerate
    return data, rate


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


def _default_subtype(fmt: str) -> str:
    # Float WAV keeps stems that exceed 0 dBFS (separation output can) bit-exact; FLAC has
    # no float mode, so 24-bit PCM is the lossless choice there.
    return "FLOAT" if fmt == "WAV" else "PCM_24"


def write_lossless_to(
    path: Path,
    audio: np.ndarray,
    samplerate: int,
    *,
    fmt: str,
    subtype: str | None = None,
    info: Mapping[str, str] | None = None,
) -> None:
    """Write WAV/FLAC to ``path`` as-is (not atomic; use :func:`write_audio` for that).

    ``info`` sets RIFF INFO / Vorbis-comment strings libsndfile knows (title, artist,
    comment, date, album, copyright, software, ...).
    """
    data = as_2d(audio).astype(np.float32, copy=False)
    subtype = subtype or _default_subtype(fmt)
    if subtype != "FLOAT":
        # Integer PCM cannot represent > 0 dBFS; clip explicitly rather than wrap, and say
        # so (separated stems of a loud master can overshoot; WAV FLOAT keeps them intact).
        peak = float(np.max(np.abs(data))) if data.size else 0.0
        if peak > 1.0:
            logger.warning(
                "%s: clipping %.2f dB over full scale to fit %s", path.name,
                20 * math.log10(peak), subtype,
            )  # fmt: skip
            data = np.clip(data, -1.0, 1.0)
    with soundfile.SoundFile(
        str(path), "w", samplerate=samplerate, channels=data.shape[0], format=fmt, subtype=subtype
    ) as f:
        for key, value in (info or {}).items():
            if value:
                setattr(f, key, str(value))
        f.write(data.T)


def write_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    samplerate: int,
    *,
    subtype: str | None = None,
    info: Mapping[str, str] | None = None,
) -> Path:
    """Atomically write a lossless WAV or FLAC (chosen by suffix)."""
    path = Path(path)
    fmt = _LOSSLESS_WRITE.get(path.suffix.lower())
    if fmt is None:
        raise AudioEncodeError(f"{path.name}: only .wav and .flac are written losslessly")
    try:
        with atomic_output(path) as tmp:
            write_lossless_to(tmp, audio, samplerate, fmt=fmt, subtype=subtype, info=info)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise AudioEncodeError(f"{path.name}: could not write audio ({exc})") from exc
    return path


def _ffmpeg_encode(tmp: Path, audio: np.ndarray, samplerate: int, args: list[str]) -> None:
    data = as_2d(audio)
    cmd = [
        FFMPEG, "-nostdin", "-v", "error", "-y",
        "-f", "f32le", "-ar", str(int(samplerate)), "-ac", str(data.shape[0]), "-i", "pipe:0",
        *args, str(tmp),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
            )
        except FileNotFoundError as exc:
            raise AudioEncodeError("ffmpeg is not installed") from exc
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            proc.kill()

        watchdog = threading.Timer(ENCODE_TIMEOUT_S, expire)
        watchdog.start()
        try:
            _feed(proc, data)
            code = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if timed_out.is_set():
            raise AudioEncodeError("ffmpeg timed out while encoding")
        if code != 0:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise AudioEncodeError(f"ffmpeg failed to encode {tmp.suffix}: {detail[0]}")


def _feed(proc: subprocess.Popen[bytes], data: np.ndarray) -> None:
    """Write ``data`` to the encoder's stdin as interleaved little-endian float32 (what
    ``-f f32le`` reads), a block at a time, then close it.

    ``subprocess.run(input=...)`` wanted the whole track as one bytes object (three
    track-long copies) and writes it 4 KiB per ``select`` round: some 15,000 Python
    iterations per encoder for a 3-minute stereo render, holding the GIL between them
    while two encoders and the render compete for it. Here each block is interleaved
    while it is in cache and written with one blocking call that releases the GIL; a
    larger pipe buffer lets the encoder read in bigger gulps. An encoder that stops
    reading (it failed) ends the feed; its exit status and stderr say why.
    """
    assert proc.stdin is not None
    grow = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if grow is not None:
        with contextlib.suppress(OSError):  # a pipe grows only up to pipe-max-size
            fcntl.fcntl(proc.stdin.fileno(), grow, _PIPE_CHUNK)
    frames = max(1, _PIPE_CHUNK // (4 * data.shape[0]))
    try:
        for start in range(0, data.shape[-1], frames):
            block = np.ascontiguousarray(data[:, start : start + frames].T, dtype="<f4")
            proc.stdin.write(block.data.cast("B"))
        proc.stdin.close()
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def mp3_args(*, bitrate: str | None = "320k", vbr_quality: int | None = None) -> list[str]:
    """LAME settings: CBR 320k by default, or VBR ``-q:a N`` (0 = V0) when requested."""
    if vbr_quality is not None:
        return ["-c:a", "libmp3lame", "-q:a", str(vbr_quality), "-f", "mp3"]
    return ["-c:a", "libmp3lame", "-b:a", bitrate or "320k", "-f", "mp3"]


def ogg_args(*, codec: str = "vorbis", quality: float = 6.0, bitrate: str = "160k") -> list[str]:
    """Ogg Vorbis (``-q:a``, 6 ~ 192 kbps) or Ogg Opus (``bitrate``, resampled to 48 kHz).

    ffmpeg's ogg muxer writes granule positions on every page, so browsers can seek.
    """
    if codec == "opus":
        return ["-c:a", "libopus", "-b:a", bitrate, "-f", "ogg"]
    if codec == "vorbis":
        return ["-c:a", "libvorbis", "-q:a", f"{quality:g}", "-f", "ogg"]
    raise ValueError(f"unsupported ogg codec {codec!r}")


def encode_to(tmp: Path, audio: np.ndarray, samplerate: int, fmt: str, **options: object) -> None:
    """Encode ``audio`` as ``fmt`` ('mp3', 'ogg', 'wav', 'flac') into ``tmp`` (not atomic)."""
    if fmt == "mp3":
        _ffmpeg_encode(tmp, audio, samplerate, mp3_args(**options))  # type: ignore[arg-type]
    elif fmt == "ogg":
        _ffmpeg_encode(tmp, audio, samplerate, ogg_args(**options))  # type: ignore[arg-type]
    elif fmt in ("wav", "flac"):
        write_lossless_to(tmp, audio, samplerate, fmt=fmt.upper(), **options)  # type: ignore[arg-type]
    else:
        raise AudioEncodeError(f"unsupported output format {fmt!r}")


def encode_mp3(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    samplerate: int,
    *,
    bitrate: str = "320k",
    vbr_quality: int | None = None,
) -> Path:
    """Atomically encode an MP3 with ffmpeg/LAME."""
    path = Path(path)
    with atomic_output(path) as tmp:
        encode_to(tmp, audio, samplerate, "mp3", bitrate=bitrate, vbr_quality=vbr_quality)
    return path


def encode_ogg(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    samplerate: int,
    *,
    codec: str = "vorbis",
    quality: float = 6.0,
    bitrate: str = "160k",
) -> Path:
    """Atomically encode an Ogg Vorbis (default) or Ogg Opus file with ffmpeg."""
    path = Path(path)
    with atomic_output(path) as tmp:
        encode_to(tmp, audio, samplerate, "ogg", codec=codec, quality=quality, bitrate=bitrate)
    return path


def sha256_file(path: str | os.PathLike[str], *, chunk_size: int = _HASH_CHUNK) -> str:
    """Hex sha256 of a file's bytes, streamed so large masters never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()
