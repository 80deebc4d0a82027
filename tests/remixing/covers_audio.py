"""Takes as a browser's MediaRecorder makes them (Opus in WebM), for the covers tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile

SR = 44100
TONE_HZ = 1500.0  # above everything in the test stems: easy to find in an export


def take_audio(*, silence_s: float, tone_s: float = 1.0, tail_s: float = 0.5) -> np.ndarray:
    """Silence, then an abrupt tone (the sung note), then silence."""
    lead = np.zeros(round(silence_s * SR), dtype=np.float32)
    t = np.arange(round(tone_s * SR)) / SR
    tone = (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    return np.concatenate([lead, tone, np.zeros(round(tail_s * SR), dtype=np.float32)])


def webm_take(folder: Path, audio: np.ndarray, name: str = "take.webm") -> Path:
    wav = folder / f"{name}.wav"
    soundfile.write(wav, audio, SR, subtype="PCM_16")
    out = folder / name
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav)]
    argv += ["-c:a", "libopus", "-b:a", "96k", "-f", "webm", str(out)]
    subprocess.run(
        argv,
        check=True,
        timeout=60,
    )
    return out


def tone_onset(audio: np.ndarray, samplerate: int = SR) -> int:
    """The sample where the 1.5 kHz tone starts: normalised cross-correlation of the
    high-passed audio with "10 ms of silence, then the tone" (a sine alone would match
    one period later just as well; the silence makes the onset the only best fit)."""
    from scipy.signal import butter, sosfiltfilt

    mono = audio.mean(axis=0) if audio.ndim == 2 else audio
    sos = butter(8, 1000, btype="highpass", fs=samplerate, output="sos")
    high = sosfiltfilt(sos, mono.astype(np.float64))
    quiet = round(0.01 * samplerate)
    t = np.arange(round(0.05 * samplerate)) / samplerate
    template = np.concatenate([np.zeros(quiet), np.sin(2 * np.pi * TONE_HZ * t)])
    numerator = np.correlate(high, template, mode="valid")
    power = np.concatenate([[0.0], np.cumsum(high**2)])
    energy = power[template.size :] - power[: -template.size]
    ncc = numerator / np.sqrt(np.maximum(energy, 1e-12) * np.sum(template**2))
    return int(np.argmax(ncc)) + quiet
