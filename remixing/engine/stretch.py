"""Tempo and key changes on every core: the mix cut into overlapping pieces, each stretched
by its own Rubber Band R3 pass in a thread, and the pieces joined by short crossfades.

Why pieces, and not the faster R2 engine: measured through the same pedalboard call, R2
misses the pitch when it also changes the tempo (a 220 Hz sine at tempo 1.1 came out at
226 Hz; a chord shifted +2 semitones at tempo 1.1 came out 1.65 up) and smears a chord's
partials (more energy off them than on them; R3: 27 dB less), while R3 hits every pitch.
One R3 pass is about 50 ms of CPU per second of stereo, all of it on one core while the
other idles. pedalboard releases the GIL for the
whole stretch, so pieces in threads run truly in parallel.

What joining costs, measured (``tests/remixing/engine/test_engine_stretch.py``):

- R3 offline is causal with a short look-ahead: a piece's output is the whole-file output,
  sample for sample, until about a second before the piece's last input sample. Each piece
  therefore gets :data:`PAD_S` of input past its seam, and everything before the seam is
  exactly what one pass would have produced.
- A piece that starts later renders the same magnitudes but never the same phases (its
  phase vocoder has another history), so at a seam two uncorrelated renderings of the same
  passage meet. They are joined by a short equal-power crossfade (equal power is the law
  that keeps the level of uncorrelated signals; the measured correlation bends it towards
  equal gain when the two happen to be in phase), placed at the quietest moment near the
  ideal cut, where whatever the crossfade does is quietest too. After the seam the output
  is a valid R3 rendering of the passage, different in phase from the one-pass rendering
  but not in level or spectrum; the tests bound the seam's level dip and spectral distance
  against that same one-pass rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import signal

StretchFn = Callable[[np.ndarray], np.ndarray]

# Shorter inputs are stretched in one pass: a seam is not worth saving a second or two.
MIN_PIECE_S = 20.0
# Input beyond each seam given to both neighbours: covers R3's look-ahead (the output
# matches one pass until ~1 s before a piece's end) and its start-up at a piece's head.
PAD_S = 2.0
# The seam is placed in the middle of the quietest 160 ms (8 frames of 20 ms: the
# crossfade, the lag search and a margin for R3's transient timing) within this distance
# of the equal split.
SEARCH_S = 2.0
_FRAME_S = 0.02
_QUIET_FRAMES = 8
CROSSFADE_S = 0.03
# The later piece may move this far to meet the earlier one in phase (half a period of
# 100 Hz), judged over this much audio either side of the seam.
MAX_LAG_S = 0.005
LAG_WINDOW_S = 0.05
# Pieces never outnumber this: each seam is a (small) change, and beyond a few cores the
# render is bound by the encoders anyway.
MAX_PIECES = 4


def piece_count(
    n_samples: int, samplerate: int, workers: int, min_piece_s: float | None = None
) -> int:
    """How many pieces a stretch of ``n_samples`` is cut into (1 = one pass)."""
    shortest = MIN_PIECE_S if min_piece_s is None else min_piece_s
    longest = int(n_samples // (shortest * samplerate))
    return max(1, min(workers, longest, MAX_PIECES))


def quiet_point(mono: np.ndarray, around: int, reach: int, frame: int, span: int) -> int:
    """Centre of the quietest ``span`` frames of ``frame`` samples within ``reach`` of
    ``around``: a quiet stretch, not a quiet instant (the instant before a drum hit is
    quiet too, but the hit lands inside the crossfade)."""
    lo = max(0, around - reach)
    hi = min(mono.size, around + reach)
    usable = (hi - lo) // frame
    if usable < span:
        return around
    power = np.square(mono[lo : lo + usable * frame], dtype=np.float64)
    energy = np.convolve(power.reshape(usable, frame).sum(axis=1), np.ones(span), "valid")
    return lo + int(np.argmin(energy)) * frame + (span * frame) // 2


def seams(audio: np.ndarray, samplerate: int, pieces: int) -> list[int]:
    """Input sample positions where one piece hands over to the next."""
    n = audio.shape[-1]
    mono = audio.mean(axis=0) if audio.ndim == 2 else audio
    frame = max(1, int(_FRAME_S * samplerate))
    reach = int(SEARCH_S * samplerate)
    return [
        quiet_point(mono, (n * i) // pieces, reach, frame, _QUIET_FRAMES) for i in range(1, pieces)
    ]


def crossfade_weights(n: int, correlation: float) -> tuple[np.ndarray, np.ndarray]:
    """Fade-out and fade-in gains over ``n`` samples.

    Equal power (cos/sin) keeps the level of two uncorrelated signals; for correlation
    ``c`` the pair is divided by ``sqrt(1 + 2 c sin cos)``, the level of their sum, so two
    signals in phase (``c`` = 1) get an equal-gain fade instead of a 3 dB bump.
    """
    theta = (np.arange(n, dtype=np.float64) + 0.5) / n * (np.pi / 2)
    fade_out, fade_in = np.cos(theta), np.sin(theta)
    c = min(1.0, max(0.0, correlation))
    norm = np.sqrt(1.0 + 2.0 * c * fade_out * fade_in)
    return (fade_out / norm).astype(np.float32), (fade_in / norm).astype(np.float32)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    denom = float(np.sqrt(np.dot(a64, a64) * np.dot(b64, b64)))
    return float(np.dot(a64, b64) / denom) if denom > 0 else 0.0


def best_lag(before: np.ndarray, after: np.ndarray, max_lag: int) -> int:
    """The shift of ``after`` (within ``max_lag``) that best lines it up with ``before``.

    ``before`` is the window around the seam from the earlier piece, ``after`` the same
    window widened by ``max_lag`` on each side from the later piece. Normalised cross-
    correlation of the channel sums: the lag that puts the strongest partials in phase,
    so the crossfade adds them instead of cancelling them (as WSOLA splices do).
    """
    ref = before.sum(axis=0, dtype=np.float64)
    other = after.sum(axis=0, dtype=np.float64)
    raw = signal.correlate(other, ref, mode="valid", method="fft")
    sums = np.concatenate(([0.0], np.cumsum(np.square(other))))
    energy = sums[ref.size :] - sums[: sums.size - ref.size]
    score = raw / np.sqrt(np.maximum(energy, 1e-20))
    return int(np.argmax(score)) - max_lag


def join(
    outputs: list[np.ndarray],
    offsets: list[int],
    cuts: list[int],
    *,
    length: int,
    samplerate: int,
) -> np.ndarray:
    """Join piece outputs on the output timeline.

    ``offsets[i]``: output index of piece ``i``'s first sample; ``cuts``: output indices
    of the seams; ``length``: the one-pass output length. Each seam is a
    :data:`CROSSFADE_S` crossfade centred on the cut, the later piece shifted by at most
    :data:`MAX_LAG_S` to meet the earlier one in phase. A shift moves the rest of the
    output by that many samples (a few milliseconds at most); the end is cut or padded to
    ``length``.
    """
    channels = outputs[0].shape[0]
    out = np.zeros((channels, length), dtype=np.float32)
    fade = max(2, int(CROSSFADE_S * samplerate))
    max_lag, reach = int(MAX_LAG_S * samplerate), int(LAG_WINDOW_S * samplerate)
    offsets = list(offsets)
    for i, cut in enumerate(cuts):
        before = _span(outputs[i], offsets[i], cut - reach, cut + reach, channels)
        after = _span(
            outputs[i + 1], offsets[i + 1], cut - reach - max_lag, cut + reach + max_lag, channels
        )
        offsets[i + 1] -= best_lag(before, after, max_lag)
    bounds = [0, *cuts, length]
    for i, piece in enumerate(outputs):
        # Each crossfade covers [cut - fade // 2, cut - fade // 2 + fade).
        lo = bounds[i] - fade // 2 + fade if i > 0 else 0
        hi = bounds[i + 1] - fade // 2 if i < len(outputs) - 1 else length
        _copy_span(out, piece, offsets[i], lo, hi)
    for i, cut in enumerate(cuts):
        lo, hi = cut - fade // 2, cut - fade // 2 + fade
        before = _span(outputs[i], offsets[i], lo, hi, channels)
        after = _span(outputs[i + 1], offsets[i + 1], lo, hi, channels)
        fade_out, fade_in = crossfade_weights(hi - lo, _correlation(before, after))
        out[:, lo:hi] = before * fade_out + after * fade_in
    return out


def _span(piece: np.ndarray, offset: int, lo: int, hi: int, channels: int) -> np.ndarray:
    """Samples ``[lo, hi)`` of the output timeline from ``piece`` (zeros where it has none)."""
    span = np.zeros((channels, hi - lo), dtype=np.float32)
    _copy_span(span, piece, offset, lo, hi, dest_origin=lo)
    return span


def _copy_span(
    dest: np.ndarray, piece: np.ndarray, offset: int, lo: int, hi: int, dest_origin: int = 0
) -> None:
    start, stop = max(lo, offset), min(hi, offset + piece.shape[-1])
    if stop > start:
        dest[:, start - dest_origin : stop - dest_origin] = piece[:, start - offset : stop - offset]


def stretch_in_pieces(
    audio: np.ndarray,
    samplerate: int,
    tempo_ratio: float,
    stretch: StretchFn,
    *,
    workers: int,
    expected_length: int,
    min_piece_s: float | None = None,
) -> np.ndarray:
    """``stretch`` (one Rubber Band pass over a piece) run on overlapping pieces at once.

    ``expected_length`` is what one pass over ``audio`` returns; the joined result has
    exactly that length, each piece placed where one pass would have put it (less the
    few milliseconds each seam may move it to meet its neighbour in phase).
    """
    spans, cut_in = piece_spans(audio, samplerate, workers, min_piece_s)
    if len(spans) == 1:
        return stretch(audio)
    with ThreadPoolExecutor(max_workers=len(spans)) as pool:
        jobs = [pool.submit(stretch, np.ascontiguousarray(audio[:, a:b])) for a, b in spans]
        outputs = [job.result() for job in jobs]
    offsets = [round(a / tempo_ratio) for a, _ in spans]
    cuts = [round(c / tempo_ratio) for c in cut_in]
    return join(outputs, offsets, cuts, length=expected_length, samplerate=samplerate)


def piece_spans(
    audio: np.ndarray, samplerate: int, workers: int, min_piece_s: float | None = None
) -> tuple[list[tuple[int, int]], list[int]]:
    """The input span ``[start, stop)`` of each piece, and the seams between them."""
    n = audio.shape[-1]
    pieces = piece_count(n, samplerate, workers, min_piece_s)
    if pieces == 1:
        return [(0, n)], []
    pad = int(PAD_S * samplerate)
    cut_in = seams(audio, samplerate, pieces)
    bounds = [0, *cut_in, n]
    spans = [(max(0, bounds[i] - pad), min(n, bounds[i + 1] + pad)) for i in range(pieces)]
    return spans, cut_in
