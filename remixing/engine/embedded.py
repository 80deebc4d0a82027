"""The embedded separator: four stems from established librosa/scipy functions, no weights.

Every install can separate with it, offline, on any CPU. It is a soft-mask separator on the
short-time Fourier transform (STFT) of each channel:

1. **Drums vs the rest**: harmonic-percussive separation (``librosa.decompose.hpss``, median
   filters across time and across frequency, soft masks). Below ``bass_cutoff_hz`` a kick
   drum is tonal and looks "harmonic" to HPSS, so there the percussive share is instead what
   rises above a long running median in time (``scipy.ndimage.median_filter``): kicks are
   short bursts, bass notes carry on through the bar.
2. **Bass**: the harmonic part below ``bass_cutoff_hz`` (a smooth Butterworth-shaped
   crossover, so the band edge does not ring).
3. **Vocals vs other**: in the harmonic part above the bass, the repeating background
   (pads, chords) is estimated with a nearest-neighbour filter
   (``librosa.decompose.nn_filter``: each frame replaced by the median of its most similar
   frames at least ``repeat_gap_s`` away), as in librosa's vocal-separation example; what
   does not repeat is the voice. Soft masks (``librosa.util.softmask``) split the two.

The masks of the four stems sum to one at every time-frequency point, so the stems sum back
to the mix (the last stem is taken as the exact remainder, which absorbs the inverse STFT's
rounding). Quality is measured in ``bench/separation_quality.py``, never assumed.

librosa is imported at module import: callers that only need the backend list (web
processes, ``/healthz``) never import this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import librosa
import numpy as np
from scipy import ndimage

# The model name recorded on stem sets, in file tags and in the audit trail. Bump the
# version whenever the output changes: stem sets are cached by (audio hash, model name).
EMBEDDED_MODEL = "librosa-hpss-v1"
STEMS = ("drums", "bass", "other", "vocals")

ProgressFn = Callable[[float], None]


class EmbeddedSeparationError(ValueError):
    """The audio cannot be separated (empty, not finite, wrong shape)."""


@dataclass(frozen=True)
class EmbeddedConfig:
    # 4096 / 1024 at 44.1 kHz: 10.8 Hz bins (bass notes resolved), 23 ms hops.
    n_fft: int = 4096
    hop_length: int = 1024
    harmonic_kernel: int = 31  # frames (~0.7 s): sustained partials count as harmonic
    percussive_kernel: int = 31  # bins (~330 Hz): broadband onsets count as percussive
    bass_cutoff_hz: float = 120.0  # measured: 180 Hz let kicks and pads into the bass
    bass_crossover_order: int = 8
    low_median_s: float = 2.0  # running median below the cutoff: what lasts is not a kick
    low_mask_power: float = 1.0  # softer mask there: kick and bass overlap in frequency
    repeat_gap_s: float = 2.0  # nn_filter ignores neighbours closer than this
    vocal_mask_power: float = 2.0


def _check(audio: np.ndarray) -> np.ndarray:
    array = np.asarray(audio, dtype=np.float32)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[-1] == 0:
        raise EmbeddedSeparationError("audio must be a non-empty (channels, samples) array")
    if not np.all(np.isfinite(array)):
        raise EmbeddedSeparationError("audio contains NaN or infinite samples")
    return array


def _crossover(samplerate: int, config: EmbeddedConfig) -> np.ndarray:
    """Low-pass gain per STFT bin (1 at DC, 0.5 at the cutoff), as a column vector."""
    freqs = librosa.fft_frequencies(sr=samplerate, n_fft=config.n_fft)
    gain = 1.0 / (1.0 + (freqs / config.bass_cutoff_hz) ** config.bass_crossover_order)
    return gain[:, np.newaxis]


def _percussive_mask(
    magnitude: np.ndarray, samplerate: int, config: EmbeddedConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Soft percussive mask: HPSS above the bass band, transient-over-median below it."""
    _harmonic, percussive = librosa.decompose.hpss(
        magnitude,
        kernel_size=(config.harmonic_kernel, config.percussive_kernel),
        mask=True,
        margin=1.0,  # margin 1: the two masks sum to one
        power=2.0,
    )
    low = _crossover(samplerate, config)
    # Bins up to twice the cutoff: beyond that the crossover weight is negligible (< 0.4%).
    top = int(np.searchsorted(librosa.fft_frequencies(sr=samplerate, n_fft=config.n_fft),
                              2 * config.bass_cutoff_hz))  # fmt: skip
    frames = max(1, int(config.low_median_s * samplerate / config.hop_length)) | 1
    sustained = ndimage.median_filter(magnitude[:top], size=(1, frames), mode="reflect")
    transient = np.maximum(magnitude[:top] - sustained, 0.0)
    low_percussive = librosa.util.softmask(transient, sustained, power=config.low_mask_power)
    percussive[:top] = low[:top] * low_percussive + (1.0 - low[:top]) * percussive[:top]
    return percussive, low


def _vocal_mask(upper: np.ndarray, samplerate: int, config: EmbeddedConfig) -> np.ndarray:
    """Soft mask of what does not repeat (the voice) within the upper harmonic part."""
    frames = upper.shape[1]
    gap = int(librosa.time_to_frames(config.repeat_gap_s, sr=samplerate,
                                     hop_length=config.hop_length))  # fmt: skip
    if frames < 8:
        return np.zeros_like(upper)  # too short to find anything that repeats
    # Neighbours by cosine similarity of whole spectra (a mel summary was faster to search
    # but found worse neighbours: -3.7 dB on "other" in bench/separation_quality.py).
    neighbours = librosa.segment.recurrence_matrix(
        upper, metric="cosine", width=max(1, min(gap, frames // 3)), sparse=True
    )
    # Frames as contiguous rows (axis=0): gathering each frame's neighbours is then a
    # cache-friendly row copy, about 3x faster than gathering columns.
    rows = np.ascontiguousarray(upper.T)
    background = librosa.decompose.nn_filter(rows, rec=neighbours, aggregate=np.median, axis=0).T
    background = np.minimum(upper, background)
    voice = upper - background
    return librosa.util.softmask(voice, background, power=config.vocal_mask_power)


def _masks(magnitude: np.ndarray, samplerate: int, config: EmbeddedConfig) -> dict[str, np.ndarray]:
    """Soft masks of drums, bass and vocals; "other" is one minus their sum."""
    percussive, low = _percussive_mask(magnitude, samplerate, config)
    harmonic = 1.0 - percussive
    upper = harmonic * (1.0 - low)
    vocals = upper * _vocal_mask(magnitude * upper, samplerate, config)
    return {"drums": percussive, "bass": harmonic * low, "vocals": vocals}


def _report(progress: ProgressFn | None, fraction: float) -> None:
    if progress is not None:
        progress(fraction)


def separate_embedded(
    audio: np.ndarray,
    samplerate: int,
    progress: ProgressFn | None = None,
    *,
    config: EmbeddedConfig | None = None,
) -> dict[str, np.ndarray]:
    """Split float32 ``(channels, samples)`` audio into drums, bass, other and vocals.

    Stems have the input's shape and rate; their sum equals the input (float32 rounding).
    ``progress`` receives increasing fractions and finally exactly 1.0.
    """
    config = config or EmbeddedConfig()
    array = _check(audio)
    length = array.shape[-1]
    spectra = [librosa.stft(channel, n_fft=config.n_fft, hop_length=config.hop_length)
               for channel in array]  # fmt: skip
    _report(progress, 0.1)
    # One set of masks from the channels' mean magnitude, applied to every channel: half the
    # work of per-channel masks, the same SDR on our benchmark, and a steadier stereo image.
    masks = _masks(np.mean([np.abs(s) for s in spectra], axis=0), int(samplerate), config)
    _report(progress, 0.8)
    out = {name: np.zeros_like(array) for name in STEMS}
    for index, spectrum in enumerate(spectra):
        for name, mask in masks.items():
            out[name][index] = librosa.istft(
                spectrum * mask, hop_length=config.hop_length, length=length
            )
    # "other" is the exact remainder: the four stems sum to the mix by construction.
    out["other"] = array - out["drums"] - out["bass"] - out["vocals"]
    _report(progress, 1.0)
    return {name: np.ascontiguousarray(out[name], dtype=np.float32) for name in STEMS}
