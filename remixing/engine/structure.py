"""Beats, bars and sections of a track, found once per stem set (librosa).

``beat.beat_track`` gives the beats; bars are groups of four beats starting on the phase
whose beats carry the most onset strength (4/4 is assumed, and the result says so);
``segment.agglomerative`` over beat-synchronous chroma and MFCC gives the sections, whose
boundaries are then moved to the nearest bar. Sections that sound alike (mean chroma and
timbre close) get the same letter, so repeats (a chorus) show as "A ... A".
"""

from __future__ import annotations

import itertools
from typing import Any

import librosa
import numpy as np

ANALYSIS_VERSION = 1
ANALYSIS_SR = 11025


def _bars_from_beats(beats: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Every fourth beat, starting on the phase whose beats carry the most onset strength."""
    if len(beats) < 4:
        return beats[:1]
    phase = int(np.argmax([strength[beats[p::4]].sum() for p in range(4)]))
    return beats[phase::4]


def _section_letters(features: np.ndarray, bounds: list[int]) -> list[str]:
    """Same letter for sections whose mean features are close (cosine >= 0.98)."""
    means = []
    for a, b in itertools.pairwise(bounds):
        v = features[:, a:b].mean(axis=1)
        means.append(v / (np.linalg.norm(v) or 1.0))
    letters: list[str] = []
    seen: list[tuple[np.ndarray, str]] = []
    for v in means:
        for other, letter in seen:
            if float(v @ other) >= 0.98:
                letters.append(letter)
                break
        else:
            letter = chr(ord("A") + len(seen)) if len(seen) < 26 else "Z"
            seen.append((v, letter))
            letters.append(letter)
    return letters


def analyse_structure(mono: np.ndarray, samplerate: int) -> dict[str, Any]:
    """Beats, bars and sections of a track (mono float audio). Deterministic."""
    duration = len(mono) / samplerate
    # 11025 Hz is plenty for beats, chroma and timbre, and 16x cheaper than 44.1 kHz CQT.
    y = librosa.resample(
        np.asarray(mono, dtype=np.float32), orig_sr=samplerate, target_sr=ANALYSIS_SR
    )
    samplerate = ANALYSIS_SR
    hop = 256
    onset = librosa.onset.onset_strength(y=y, sr=samplerate, hop_length=hop)
    tempo, beats = librosa.beat.beat_track(onset_envelope=onset, sr=samplerate, hop_length=hop)
    bar_frames = _bars_from_beats(np.asarray(beats), onset)
    beat_times = librosa.frames_to_time(beats, sr=samplerate, hop_length=hop)
    bar_times = librosa.frames_to_time(bar_frames, sr=samplerate, hop_length=hop)
    sections: list[dict[str, Any]] = []
    if len(beats) >= 8:
        chroma = librosa.feature.chroma_stft(y=y, sr=samplerate, hop_length=hop, n_fft=2048)
        mfcc = librosa.feature.mfcc(y=y, sr=samplerate, hop_length=hop, n_mfcc=13)
        stacked = np.vstack(
            [librosa.util.normalize(chroma, axis=0), librosa.util.normalize(mfcc, axis=1)]
        )
        synced = librosa.util.sync(stacked, beats.tolist(), aggregate=np.median)
        k = int(min(8, max(2, round(duration / 8))))
        k = min(k, synced.shape[1])
        bound_beats = librosa.segment.agglomerative(synced, k)
        bound_times = librosa.frames_to_time(
            np.asarray(beats)[np.clip(bound_beats - 1, 0, len(beats) - 1)],
            sr=samplerate,
            hop_length=hop,
        )
        snapped = sorted({0.0, *(_nearest(t, bar_times) for t in bound_times[1:]), duration})
        snapped = [t for i, t in enumerate(snapped) if i == 0 or t - snapped[i - 1] >= 1.0]
        if snapped[-1] != duration:
            snapped[-1] = duration
        frames = [int(librosa.time_to_frames(t, sr=samplerate, hop_length=hop)) for t in snapped]
        letters = _section_letters(stacked, frames)
        sections = [
            {"start_s": round(a, 4), "end_s": round(b, 4), "label": letter}
            for (a, b), letter in zip(itertools.pairwise(snapped), letters, strict=False)
        ]
    if not sections:
        sections = [{"start_s": 0.0, "end_s": round(duration, 4), "label": "A"}]
    return {
        "version": ANALYSIS_VERSION,
        "tempo_bpm": round(float(np.atleast_1d(tempo)[0]), 2),
        "meter": "4/4 (assumed)",
        "duration_s": round(duration, 4),
        "beats_s": [round(float(t), 4) for t in beat_times],
        "bars_s": [round(float(t), 4) for t in bar_times],
        "sections": sections,
    }


def _nearest(value: float, grid: np.ndarray) -> float:
    if len(grid) == 0:
        return float(value)
    return float(grid[int(np.argmin(np.abs(grid - value)))])
