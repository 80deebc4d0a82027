"""Procedural demo music for seeding the marketplace (and for tests and benchmarks).

``synth_track`` writes a short loop-based song in a given key and tempo: a drum kit
(kick/snare/hat one-shots), a bass line on the chord roots, a pad playing the chord
progression, and a sung-sounding lead whose harmonics are shaped by vowel formants, so the
a cappella / instrumental presets have something meaningful to isolate or remove.

Everything is vectorised numpy (phase accumulation + additive synthesis) and seeded, so the
same arguments give bit-identical stems in well under a second.
"""

from __future__ import annotations

import math
import re

import numpy as np

STEMS = ("drums", "bass", "other", "vocals")
MIN_DURATION_S, MAX_DURATION_S = 20.0, 40.0
_PEAK_CEILING = 10 ** (-1.0 / 20)  # mix peak <= -1 dBFS

_NOTE_OFFSETS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Progressions as 0-based scale degrees, one chord per bar; the seed picks one.
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (3, 0, 4, 5), (0, 3, 0, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4)),
}
# (F1, F2, F3) in Hz for a few sung vowels; harmonic amplitudes follow these resonances.
_VOWELS = {
    "a": (800.0, 1150.0, 2900.0),
    "e": (400.0, 1600.0, 2700.0),
    "i": (350.0, 1700.0, 2700.0),
    "o": (450.0, 800.0, 2830.0),
    "u": (325.0, 700.0, 2530.0),
}


def parse_key(key: str) -> tuple[int, str]:
    """``"A minor"`` / ``"F# major"`` / ``"Bb minor"`` -> (pitch class 0-11, mode)."""
    match = re.fullmatch(r"\s*([A-Ga-g])([#b]?)\s*(major|minor|maj|min|m)?\s*", key)
    if not match:
        raise ValueError(f"cannot parse key {key!r}; use e.g. 'A minor' or 'C# major'")
    letter, accidental, mode = match.groups()
    pitch = _NOTE_OFFSETS[letter.lower()] + {"#": 1, "b": -1, "": 0}[accidental]
    mode = "major" if mode in (None, "major", "maj") else "minor"
    return pitch % 12, mode


def _midi_hz(note: float) -> float:
    return 440.0 * float(2.0 ** ((note - 69) / 12.0))


def _env(n: int, sr: int, attack: float, decay: float) -> np.ndarray:
    """Linear attack then exponential decay (time constant ``decay`` s)."""
    t = np.arange(n, dtype=np.float32) / sr
    a = max(1, int(attack * sr))
    env = np.exp(-np.maximum(t - attack, 0) / decay, dtype=np.float32)
    env[:a] *= np.linspace(0, 1, a, dtype=np.float32)[: min(a, n)]
    return env


def _place(track: np.ndarray, sound: np.ndarray, start: int, gain: float = 1.0) -> None:
    end = min(track.shape[-1], start + sound.shape[-1])
    if end > start:
        track[..., start:end] += gain * sound[..., : end - start]


def _drum_kit(rng: np.random.Generator, sr: int) -> dict[str, np.ndarray]:
    t = np.arange(int(0.45 * sr), dtype=np.float32) / sr
    # Kick: sine swept 130 -> 45 Hz; the sweep is what makes it read as a kick, not a tom.
    freq = 45 + 85 * np.exp(-t / 0.04)
    kick = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.16)
    n = int(0.25 * sr)
    noise = rng.standard_normal(n).astype(np.float32)
    # Snare: a 190 Hz body plus bright noise (first difference = crude high-pass).
    tone = np.sin(2 * np.pi * 190 * t[:n]) * np.exp(-t[:n] / 0.05)
    snap = np.diff(noise, prepend=0.0) * np.exp(-t[:n] / 0.07) * 0.35
    hat_noise = rng.standard_normal(int(0.06 * sr)).astype(np.float32)
    hat = np.diff(np.diff(hat_noise, prepend=0.0), prepend=0.0)
    hat *= np.exp(-np.arange(hat.size) / sr / 0.012) * 0.12
    return {"kick": kick.astype(np.float32), "snare": (tone * 0.5 + snap).astype(np.float32),
            "hat": hat.astype(np.float32)}  # fmt: skip


def _drums(rng: np.random.Generator, n: int, sr: int, beat: int, bars: int) -> np.ndarray:
    kit = _drum_kit(rng, sr)
    out = np.zeros((2, n), dtype=np.float32)
    busy_hats = rng.random() < 0.5
    hats = np.stack([0.8 * kit["hat"], kit["hat"]])  # hats sit slightly right
    for bar in range(1, bars):  # bar 0 is the intro: no drums yet
        origin = bar * 4 * beat
        for b in range(4):
            pos = origin + b * beat
            if b in (0, 2):
                _place(out, kit["kick"], pos, 0.9)
            else:
                _place(out, kit["snare"], pos, 0.6)
            steps = 4 if busy_hats else 2
            for s in range(steps):
                accent = 1.0 if s % 2 == 0 else 0.6
                _place(out, hats, pos + s * beat // steps, accent)
        if rng.random() < 0.4:  # syncopated kick on the "and" of 3
            _place(out, kit["kick"], origin + 2 * beat + beat // 2, 0.6)
    return out


def _chord_notes(root_pc: int, scale: tuple[int, ...], degree: int, octave: int) -> list[int]:
    notes = []
    for step in (0, 2, 4):  # stacked diatonic thirds = triad
        idx = degree + step
        notes.append(12 * (octave + 1) + root_pc + scale[idx % 7] + 12 * (idx // 7))
    return notes


def _phase_from_freq(freq: np.ndarray, sr: int) -> np.ndarray:
    # Integrating instantaneous frequency keeps the phase continuous across note changes.
    # Accumulate in float64 (no drift over 40 s), then wrap so float32 sin stays accurate.
    cycles = np.cumsum(freq, dtype=np.float64)
    cycles *= 1.0 / sr
    cycles -= np.floor(cycles)
    return (cycles * (2 * np.pi)).astype(np.float32)


def _three_harmonics(phase: np.ndarray, h2: float, h3: float) -> np.ndarray:
    """``sin(p) + h2*sin(2p) + h3*sin(3p)`` with one sin and one cos (Chebyshev identities)."""
    s, c = np.sin(phase), np.cos(phase)
    out: np.ndarray = s * (1.0 + 2.0 * h2 * c + h3 * (3.0 - 4.0 * s * s))
    return out


def _bass(
    chords: list[list[int]], n: int, sr: int, beat: int, rng: np.random.Generator
) -> np.ndarray:
    freq = np.zeros(n, dtype=np.float64)
    amp = np.zeros(n, dtype=np.float32)
    pattern = rng.choice([0, 1, 2])
    eighth = beat // 2
    for bar, chord in enumerate(chords):
        root = chord[0] - 24  # two octaves below the pad
        for step in range(8):
            if pattern == 0 and step % 2:  # quarter notes
                continue
            note = root + (7 if pattern == 2 and step in (3, 7) else 0)
            start = bar * 4 * beat + step * eighth
            length = eighth * (2 if pattern == 0 else 1)
            if start >= n:
                break
            end = min(n, start + length)
            freq[start:end] = _midi_hz(note)
            amp[start:end] = _env(end - start, sr, 0.004, 0.18)[: end - start] * 0.95
    freq[freq == 0] = _midi_hz(chords[0][0] - 24)
    phase = _phase_from_freq(freq, sr)
    # Fundamental + soft 2nd/3rd harmonics, lightly saturated for some growl.
    tone = _three_harmonics(phase, 0.35, 0.12)
    mono = np.tanh(1.3 * tone) * amp * np.float32(0.5)
    return np.stack([mono, mono])


def _pad(chords: list[list[int]], n: int, sr: int, bar_len: int) -> np.ndarray:
    out = np.zeros((2, n), dtype=np.float32)
    env = np.ones(n, dtype=np.float32)
    fade = int(0.08 * sr)
    for bar in range(len(chords)):  # dip between chords so changes articulate
        start = bar * bar_len
        seg = env[start : start + fade]
        seg *= np.linspace(0.4, 1.0, seg.size, dtype=np.float32)
    for voice in range(3):
        freq = np.empty(n, dtype=np.float64)
        for bar, chord in enumerate(chords):
            freq[bar * bar_len : (bar + 1) * bar_len] = _midi_hz(chord[voice])
        for channel, detune in ((0, 0.998), (1, 1.002)):  # slight detune = stereo width
            phase = _phase_from_freq(freq * detune, sr)
            out[channel] += _three_harmonics(phase, 0.25, 0.08) * env * np.float32(0.09)
    return out


def _formant_gain(freqs: np.ndarray, vowel: str) -> np.ndarray:
    gain = np.zeros_like(freqs)
    for formant, weight in zip(_VOWELS[vowel], (1.0, 0.6, 0.25), strict=True):
        bandwidth = 60.0 + 0.06 * formant
        gain += weight / (1.0 + ((freqs - formant) / bandwidth) ** 2)
    return gain + 0.02  # a little energy everywhere, like a real glottal source


def _lead(
    chords: list[list[int]],
    root_pc: int,
    scale: tuple[int, ...],
    n: int,
    sr: int,
    beat: int,
    rng: np.random.Generator,
) -> np.ndarray:
    out = np.zeros(n, dtype=np.float32)
    vowels = list(_VOWELS)
    # Scale tones around A4..A5 (MIDI 64-81) make up the melody's alphabet.
    alphabet = [
        12 * octave + root_pc + step
        for octave in (5, 6)
        for step in scale
        if 62 <= 12 * octave + root_pc + step <= 81
    ]
    motif = rng.choice([1, 1, 2, 2, 1, 0.5, 0.5, 1], size=8)  # durations in beats
    previous = alphabet[len(alphabet) // 2]
    for bar in range(2, len(chords)):  # vocals enter after intro + one groove bar
        if bar % 4 == 3 and rng.random() < 0.5:
            continue  # breathe: leave some bars empty
        chord_pcs = {note % 12 for note in chords[bar]}
        pos_beats = 0.0
        for dur in motif:
            if pos_beats >= 4:
                break
            dur = float(min(dur, 4 - pos_beats))
            # Strong beats land on chord tones; otherwise step near the previous note.
            strong = pos_beats in (0.0, 2.0)
            choices = [m for m in alphabet if (m % 12 in chord_pcs) or not strong]
            choices.sort(key=lambda m: abs(m - previous) + rng.random() * 3)
            note = choices[0] if rng.random() < 0.6 else choices[min(2, len(choices) - 1)]
            previous = note
            start = bar * 4 * beat + int(pos_beats * beat)
            length = int(dur * beat * 0.92)  # small gap: syllables
            pos_beats += dur
            if start >= n or length <= 0:
                continue
            length = min(length, n - start)
            t = np.arange(length) / sr
            f0 = _midi_hz(note)
            # Vibrato fades in after the attack, as a singer's does.
            vib = 1 + 0.012 * np.sin(2 * np.pi * 5.5 * t) * np.clip(t / 0.25, 0, 1)
            phase = _phase_from_freq(f0 * vib, sr)
            harmonics = np.arange(1, max(2, int(4500 // f0)) + 1)
            weights = _formant_gain(harmonics * f0, vowels[int(rng.integers(len(vowels)))])
            weights /= harmonics**0.7
            tone = np.zeros(length)
            for k, w in zip(harmonics, weights, strict=True):
                tone += w * np.sin(k * phase)
            env = np.minimum(1.0, t / 0.03) * np.minimum(1.0, (t[-1] - t) / 0.06 + 1e-3)
            out[start : start + length] += (tone * env / np.max(np.abs(tone) + 1e-9)).astype(
                np.float32
            ) * 0.3
    return np.stack([out, out])


def synth_track(
    *,
    seed: int,
    bpm: float,
    key: str,
    duration_s: float,
    samplerate: int = 44100,
) -> dict[str, np.ndarray]:
    """Stems ``drums``, ``bass``, ``other``, ``vocals`` and their sum ``mix``.

    Each array is float32 ``(2, round(duration_s * samplerate))``. Stems are scaled
    together so the mix peaks at or below -1 dBFS, keeping ``mix == sum(stems)``.
    """
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration_s must be between {MIN_DURATION_S:g} and {MAX_DURATION_S:g}")
    if not 40 <= bpm <= 240:
        raise ValueError("bpm must be between 40 and 240")
    root_pc, mode = parse_key(key)
    scale = _SCALES[mode]
    rng = np.random.default_rng(seed)
    sr = int(samplerate)
    n = round(duration_s * sr)
    beat = round(60.0 / bpm * sr)
    bar_len = 4 * beat
    bars = math.ceil(n / bar_len)
    progression = _PROGRESSIONS[mode][int(rng.integers(len(_PROGRESSIONS[mode])))]
    chords = [_chord_notes(root_pc, scale, progression[i % 4], 3) for i in range(bars)]

    stems = {
        "drums": _drums(rng, n, sr, beat, bars),
        "bass": _bass(chords, n, sr, beat, rng),
        "other": _pad(chords, n, sr, bar_len),
        "vocals": _lead(chords, root_pc, scale, n, sr, beat, rng),
    }
    mix = sum(stems.values())
    assert isinstance(mix, np.ndarray)
    peak = float(np.max(np.abs(mix)))
    if peak > _PEAK_CEILING:
        scale_by = np.float32(_PEAK_CEILING / peak)
        stems = {name: audio * scale_by for name, audio in stems.items()}
        mix = mix * scale_by
    # Short fade-out so the last bar does not end on a click.
    tail = min(n, int(0.05 * sr))
    ramp = np.linspace(1.0, 0.0, tail, dtype=np.float32)
    for audio in (*stems.values(), mix):
        audio[:, n - tail :] *= ramp
    out = {name: np.ascontiguousarray(a, dtype=np.float32) for name, a in stems.items()}
    out["mix"] = np.ascontiguousarray(mix, dtype=np.float32)
    return out
