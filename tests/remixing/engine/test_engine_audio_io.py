"""Decoding every supported container, atomic writes, hashing."""

from __future__ import annotations

import hashlib
import os
import subprocess

import numpy as np
import pytest
import soundfile

from remixing.engine import audio_io
from remixing.engine.analysis import dominant_frequency

SR = 44100


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture(scope="module")
def tone() -> np.ndarray:
    t = np.arange(int(1.5 * SR)) / SR
    left = 0.4 * np.sin(2 * np.pi * 440 * t)
    right = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([left, right]).astype(np.float32)


def test_wav_float_round_trip_is_exact(tmp_path, tone):
    path = audio_io.write_audio(tmp_path / "a.wav", tone * 2.5, SR)  # > 0 dBFS survives
    data, rate = audio_io.load_audio(path)
    assert rate == SR and data.dtype == np.float32
    np.testing.assert_array_equal(data, tone * 2.5)
    assert leftovers(tmp_path) == ["a.wav"]


def test_flac_is_lossless_24_bit(tmp_path, tone):
    path = audio_io.write_audio(tmp_path / "a.flac", tone, SR)
    data, _ = audio_io.load_audio(path)
    np.testing.assert_allclose(data, tone, atol=2.0**-22)
    assert soundfile.info(str(path)).subtype == "PCM_24"


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "opus", "m4a"])
def test_lossy_formats_decode(tmp_path, tone, fmt):
    path = tmp_path / f"a.{fmt}"
    if fmt == "mp3":
        audio_io.encode_mp3(path, tone, SR)
    elif fmt == "ogg":
        audio_io.encode_ogg(path, tone, SR)
    elif fmt == "opus":
        path = tmp_path / "a.ogg"
        audio_io.encode_ogg(path, tone, SR, codec="opus")
    else:  # M4A/AAC: made by ffmpeg directly, read through the ffmpeg fallback
        wav = audio_io.write_audio(tmp_path / "src.wav", tone, SR)
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "aac", "-b:a", "192k", str(path)],
            check=True,
        )
    data, rate = audio_io.load_audio(path, samplerate=SR)
    assert rate == SR and data.shape[0] == 2
    # Gapless-aware decoding: length within a few ms of the original (AAC pads a frame).
    assert abs(data.shape[-1] - tone.shape[-1]) <= (2048 if fmt in ("m4a", "opus") else 0)
    assert dominant_frequency(data, SR) == pytest.approx(440, rel=0.01)


def test_load_resamples_and_remixes_channels(tmp_path, tone):
    path = audio_io.write_audio(tmp_path / "a.wav", tone, SR)
    data, rate = audio_io.load_audio(path, samplerate=22050, channels=1)
    assert rate == 22050 and data.shape == (1, tone.shape[-1] // 2)
    assert dominant_frequency(data, 22050) == pytest.approx(440, rel=0.01)
    mono = audio_io.write_audio(tmp_path / "m.wav", tone[:1], SR)
    assert audio_io.load_audio(mono, channels=2)[0].shape[0] == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.wav", None, "file not found"),
        ("empty.wav", b"", "file is empty"),
        ("garbage.wav", b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10, "could not decode"),
        ("garbage.m4a", os.urandom(4096), "could not decode"),
        ("text.mp3", b"this is not an mp3 file at all" * 100, "could not decode"),
    ],
)
def test_unreadable_files_raise_readable_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(audio_io.AudioDecodeError, match=message) as info:
        audio_io.load_audio(path)
    assert name in str(info.value)


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    dest = tmp_path / "out.wav"
    with pytest.raises(RuntimeError), audio_io.atomic_output(dest) as tmp:
        tmp.write_bytes(b"half a file")
        raise RuntimeError("encoder crashed")
    assert leftovers(tmp_path) == []


def test_atomic_output_keeps_old_file_until_replaced(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with pytest.raises(ValueError), audio_io.atomic_output(dest) as tmp:
        tmp.write_bytes(b"new")
        assert dest.read_bytes() == b"old"  # readers still see the complete old file
        raise ValueError
    assert dest.read_bytes() == b"old" and leftovers(tmp_path) == ["out.bin"]
    with audio_io.atomic_output(dest) as tmp:
        tmp.write_bytes(b"new")
    assert dest.read_bytes() == b"new" and leftovers(tmp_path) == ["out.bin"]


def test_encoder_failure_leaves_nothing(tmp_path, tone, monkeypatch):
    monkeypatch.setattr(audio_io, "FFMPEG", "ffmpeg-does-not-exist")
    with pytest.raises(audio_io.AudioEncodeError, match="not installed"):
        audio_io.encode_mp3(tmp_path / "x.mp3", tone, SR)
    monkeypatch.undo()
    with pytest.raises(audio_io.AudioEncodeError, match="ffmpeg failed"):  # ffmpeg rejects it
        audio_io.encode_mp3(tmp_path / "x.mp3", tone, SR, bitrate="banana")
    assert leftovers(tmp_path) == []


def test_encoder_that_stops_reading_fails_cleanly(tmp_path):
    """An encoder that exits before reading its input (here: a bitrate ffmpeg refuses)
    breaks the pipe mid-feed: the feed stops and the encoder's own message is raised,
    even when the input is far larger than the pipe."""
    long = np.zeros((2, 60 * SR), dtype=np.float32)
    with pytest.raises(audio_io.AudioEncodeError, match="ffmpeg failed"):
        audio_io.encode_mp3(tmp_path / "x.mp3", long, SR, bitrate="banana")
    assert leftovers(tmp_path) == []


def test_encoder_that_hangs_is_killed(tmp_path, tone, monkeypatch):
    """A stuck encoder (reads nothing, never exits) is killed after the timeout instead of
    holding the render forever."""
    stuck = tmp_path / "bin" / "ffmpeg"
    stuck.parent.mkdir()
    stuck.write_text("#!/bin/sh\nexec sleep 30\n")
    stuck.chmod(0o755)
    monkeypatch.setattr(audio_io, "FFMPEG", str(stuck))
    monkeypatch.setattr(audio_io, "ENCODE_TIMEOUT_S", 0.5)
    long = np.zeros((2, 60 * SR), dtype=np.float32)  # more than the pipe holds
    out = tmp_path / "out"
    with pytest.raises(audio_io.AudioEncodeError, match="timed out"):
        audio_io.encode_mp3(out / "x.mp3", long, SR)
    assert leftovers(out) == []


def test_staged_outputs_all_or_nothing(tmp_path):
    with pytest.raises(audio_io.AudioEncodeError), audio_io.StagedOutputs() as staged:
        staged.stage(tmp_path / "a.mp3").write_bytes(b"a")
        staged.stage(tmp_path / "b.ogg")  # never written
        staged.commit()
    assert leftovers(tmp_path) == []
    with audio_io.StagedOutputs() as staged:
        staged.stage(tmp_path / "a.mp3").write_bytes(b"a")
        staged.stage(tmp_path / "b.ogg").write_bytes(b"b")
        assert leftovers(tmp_path)[0].startswith(".")  # only hidden temps so far
        staged.commit()
    assert leftovers(tmp_path) == ["a.mp3", "b.ogg"]


def test_sha256_streams(tmp_path):
    blob = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "blob"
    path.write_bytes(blob)
    expected = hashlib.sha256(blob).hexdigest()
    assert audio_io.sha256_file(path) == expected
    assert audio_io.sha256_file(path, chunk_size=1000) == expected


def test_probe(tmp_path, tone):
    info = audio_io.probe(audio_io.encode_ogg(tmp_path / "a.ogg", tone, SR))
    assert info.samplerate == SR and info.channels == 2 and info.codec == "vorbis"
    assert info.duration_s == pytest.approx(1.5, abs=0.05)
