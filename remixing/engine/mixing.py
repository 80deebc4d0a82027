"""The DSP steps of a render, each a pure function on ``(channels, samples)`` float32 audio.

Order matters and is fixed by :mod:`.render`: region -> per-stem gain/mute/solo -> MIX ->
tempo/key (once, on the mix) -> effects -> fades. Stretching the mix once instead of every
stem is ~4x cheaper and keeps the stems phase-coherent with each other.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pedalboard

from .analysis import as_2d
from .parallel import available_cores
from .recipe import Effects, Recipe, Region, StemSettings, db_to_gain
from .stretch import stretch_in_pieces

_MIX_BLOCK = 1 << 15


class MixError(ValueError):
    """Stems and recipe do not fit together (message is user-readable)."""


def to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Mono -> N by duplication; N -> N unchanged. Anything else is an error."""
    audio = as_2d(audio)
    if audio.shape[0] == channels:
        return audio
    if audio.shape[0] == 1:
        return np.repeat(audio, channels, axis=0)
    raise MixError(f"cannot use a {audio.shape[0]}-channel stem in a {channels}-channel mix")


def align_stems(stems: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Same channel count and length for all stems (zero-padding the shorter ones).

    Separation output can differ by a few samples between stems after resampling; padding
    (rather than trimming) never drops audio.
    """
    if not stems:
        raise MixError("no stems to mix")
    arrays = {name: as_2d(a) for name, a in stems.items()}
    channels = max(a.shape[0] for a in arrays.values())
    length = max(a.shape[-1] for a in arrays.values())
    out = {}
    for name, audio in arrays.items():
        audio = to_channels(audio, channels).astype(np.float32, copy=False)
        if audio.shape[-1] < length:
            audio = np.pad(audio, ((0, 0), (0, length - audio.shape[-1])))
        out[name] = audio
    return out


def cut_region(audio: np.ndarray, samplerate: int, region: Region | None) -> np.ndarray:
    """Samples ``[start_s, end_s)``; a region reaching past the end is cut at the end."""
    if region is None:
        return audio
    start = round(region.start_s * samplerate)
    end = min(audio.shape[-1], round(region.end_s * samplerate))
    if start >= end:
        raise MixError(
            f"region starts at {region.start_s:g} s but the audio is only "
            f"{audio.shape[-1] / samplerate:.2f} s long"
        )
    return audio[..., start:end]


def effective_stem_settings(recipe: Recipe, names: list[str]) -> dict[str, StemSettings]:
    """Recipe settings for exactly the stems provided (unmentioned stems play at 0 dB)."""
    missing = [n for n, s in recipe.stems.items() if n not in names and not s.is_default]
    if missing:
        raise MixError(f"the recipe changes stem(s) that were not provided: {', '.join(missing)}")
    return {name: recipe.stems.get(name, StemSettings()) for name in names}


def stem_gains(settings: Mapping[str, StemSettings]) -> dict[str, float]:
    """Linear gain per stem after mute/solo rules (0.0 = silent).

    Mute always wins; if any stem is soloed, only soloed (and unmuted) stems play.
    """
    any_solo = any(s.solo for s in settings.values())
    gains = {}
    for name, s in settings.items():
        audible = not s.mute and (s.solo or not any_solo)
        gains[name] = db_to_gain(s.gain_db) if audible else 0.0
    return gains


def mix_stems(stems: Mapping[str, np.ndarray], gains: Mapping[str, float]) -> np.ndarray:
    """Sum of ``gain * stem``; stems must already be aligned. Accumulates in float64.

    Block by block: the float64 sum of a block stays in cache, instead of a track-long
    float64 array and a float64 copy of every stem (the same additions, in the same order,
    so the same result).
    """
    first = next(iter(stems.values()))
    playing = [(audio, gains.get(name, 1.0)) for name, audio in stems.items()]
    playing = [(audio, gain) for audio, gain in playing if gain != 0.0]
    mix = np.empty(first.shape, dtype=np.float32)
    n = first.shape[-1]
    for start in range(0, n, _MIX_BLOCK):
        stop = min(n, start + _MIX_BLOCK)
        acc = np.zeros((*first.shape[:-1], stop - start), dtype=np.float64)
        for audio, gain in playing:
            acc += gain * audio[..., start:stop].astype(np.float64, copy=False)
        mix[..., start:stop] = acc
    return mix


def stretch_and_shift(
    audio: np.ndarray,
    samplerate: int,
    tempo_ratio: float,
    key_shift: int,
    *,
    workers: int | None = None,
) -> np.ndarray:
    """Tempo change (pitch kept) and key change in ONE Rubber Band pass per piece.

    ``pedalboard.time_stretch(stretch_factor=r)`` plays ``r`` times faster, so the output is
    ``len / r`` samples long. Formants are preserved so shifted vocals don't sound chipmunky.
    Identity settings return the input untouched (Rubber Band is never a perfect no-op).
    Long audio is cut into one piece per core (``workers``, default: the cores this
    process may use), stretched at once and crossfaded back together: see :mod:`.stretch`.
    """
    if tempo_ratio == 1.0 and key_shift == 0:
        return audio
    audio = np.ascontiguousarray(audio, dtype=np.float32)

    def one_pass(piece: np.ndarray) -> np.ndarray:
        out = pedalboard.time_stretch(
            piece,
            float(samplerate),
            stretch_factor=float(tempo_ratio),
            pitch_shift_in_semitones=float(key_shift),
            high_quality=True,
            preserve_formants=True,
        )
        return np.asarray(out, dtype=np.float32)

    if audio.ndim == 1:
        return one_pass(audio)
    return stretch_in_pieces(
        audio, samplerate, float(tempo_ratio), one_pass,
        workers=available_cores() if workers is None else workers,
        expected_length=round(audio.shape[-1] / float(tempo_ratio)),
    )  # fmt: skip


def effects_board(effects: Effects) -> pedalboard.Pedalboard | None:
    """The pedalboard chain for ``effects`` (None when no effect is on).

    Order: filters clean up the signal, the compressor reacts to the filtered signal, then
    time-based effects (delay, reverb) so their tails are not pumped by the compressor.
    """
    plugins: list[pedalboard.Plugin] = []
    # pedalboard's filters are first order (6 dB/octave): too gentle to audibly "muffle"
    # a lo-fi mix or clear rumble. Two in series give 12 dB/octave (-6 dB at the cutoff).
    if effects.highpass_hz is not None:
        plugins += [
            pedalboard.HighpassFilter(cutoff_frequency_hz=effects.highpass_hz) for _ in range(2)
        ]
    if effects.lowpass_hz is not None:
        plugins += [
            pedalboard.LowpassFilter(cutoff_frequency_hz=effects.lowpass_hz) for _ in range(2)
        ]
    if effects.compressor is not None:
        plugins.append(
            pedalboard.Compressor(
                threshold_db=effects.compressor.threshold_db, ratio=effects.compressor.ratio
            )
        )
    if effects.delay is not None:
        plugins.append(
            pedalboard.Delay(
                delay_seconds=effects.delay.seconds,
                feedback=effects.delay.feedback,
                mix=effects.delay.mix,
            )
        )
    if effects.reverb is not None:
        wet = effects.reverb.wet
        # Keep the dry signal mostly intact: "wet 0.2" should add a room, not remove the song.
        plugins.append(
            pedalboard.Reverb(
                room_size=effects.reverb.room_size, wet_level=wet, dry_level=1.0 - 0.5 * wet
            )
        )
    return pedalboard.Pedalboard(plugins) if plugins else None


def apply_effects(audio: np.ndarray, samplerate: int, effects: Effects) -> np.ndarray:
    board = effects_board(effects)
    if board is None:
        return audio
    out = board(np.ascontiguousarray(audio, dtype=np.float32), float(samplerate))
    return np.asarray(out, dtype=np.float32)


def apply_fades(
    audio: np.ndarray, samplerate: int, fade_in_s: float, fade_out_s: float
) -> np.ndarray:
    """Raised-cosine fades in output time, clamped to the audio length (returns a copy).

    Fades are given in seconds of the *rendered* output, so after a tempo change they are
    applied as written (and clamped if the render got shorter than the fade).
    """
    out = np.array(audio, dtype=np.float32, copy=True)
    n = out.shape[-1]
    n_in = min(n, round(fade_in_s * samplerate))
    n_out = min(n, round(fade_out_s * samplerate))
    if n_in > 0:
        out[..., :n_in] *= _fade_curve(n_in)
    if n_out > 0:
        out[..., n - n_out :] *= _fade_curve(n_out)[::-1]
    return out


def _fade_curve(n: int) -> np.ndarray:
    # 0 -> 1 raised cosine: no slope discontinuity at either end, so no audible click.
    return (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))).astype(np.float32)
