"""Mastering: the limiter curve, the loudness target and the true-peak ceiling, on music
long and hot enough for the limiter to work (the render tests' 6 s excerpt rarely is)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyebur128
import pytest
from scipy import signal
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from remixing.engine import analysis, limiter, mastering, true_peak
from remixing.engine.synth import synth_track

SR = 44100


def whole_track_limiter_gain(envelope: np.ndarray, ceiling_lin: float) -> np.ndarray:
    """The limiter curve as first written: all three filters over the whole track."""
    required = np.minimum(1.0, ceiling_lin / np.maximum(envelope, 1e-12)).astype(np.float32)
    if float(required.min()) >= 1.0:
        return np.ones_like(required)
    half = max(2, int(0.015 * SR))
    box = 2 * (half // 2) + 1
    gain = minimum_filter1d(required, size=2 * half + 1, mode="nearest")
    gain = uniform_filter1d(gain, size=box, mode="nearest")
    gain = uniform_filter1d(gain, size=box, mode="nearest")
    return np.minimum(gain, 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_limiter_filters_only_near_peaks_but_gives_the_same_curve(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 200_000))
    envelope = (np.abs(rng.standard_normal(n)) * rng.uniform(0.1, 1.0)).astype(np.float32)
    envelope[rng.integers(0, n, size=int(rng.integers(0, 20)))] *= 4  # isolated peaks too
    ceiling = float(rng.uniform(0.5, 3.0))
    np.testing.assert_allclose(
        mastering.limiter_gain(envelope, ceiling, SR),
        whole_track_limiter_gain(envelope, ceiling),
        atol=1e-6,
    )


@pytest.mark.parametrize("seed", range(6))
def test_limit_into_writes_only_where_the_gain_is_under_one(seed):
    """The mastering loop's form of the limiter: the curve for ``envelope * g``, written
    into a reused buffer only in the stretches it returns, which cover every sample
    where it is under 1 and start and end on one."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50_000, 400_000))
    # Dense overs (one cluster across the track), then isolated peaks: many clusters,
    # some a merge gap apart, some across the spans' bounds.
    envelope = (np.abs(rng.standard_normal(n)) * (0.2 if seed < 2 else 0.05)).astype(np.float32)
    envelope[rng.integers(0, n, size=int(rng.integers(1, 80)))] *= 20
    g = np.float32(rng.uniform(1.0, 2.0))
    expected = whole_track_limiter_gain(envelope * g, 0.7)
    curve = np.full(n, np.nan, dtype=np.float32)
    stretches = limiter.limit_into(curve, envelope, g, 0.7, SR)
    inside = np.zeros(n, dtype=bool)
    for a, b in stretches:
        inside[a:b] = True
    assert inside[expected < 1.0].all()
    assert (curve[stretches[:, 0]] < 1.0).all() and (curve[stretches[:, 1] - 1] < 1.0).all()
    np.testing.assert_allclose(curve[inside], expected[inside], atol=1e-6)
    assert np.isnan(curve[~inside]).all()
    # Spread over spans (a cluster of overs runs on into the next span): the same.
    with ThreadPoolExecutor(3) as pool:
        for pieces in (2, 3, 16):
            spread = np.full(n, np.nan, dtype=np.float32)
            found = limiter.limit_into(spread, envelope, g, 0.7, SR, executor=pool, pieces=pieces)
            np.testing.assert_array_equal(found, stretches)
            np.testing.assert_array_equal(spread, curve)


@pytest.fixture(scope="module")
def hot_mix() -> np.ndarray:
    """20 s of a drum-heavy song pushed 6 dB: at -14 LUFS its drums peak over -1 dBTP."""
    song = synth_track(seed=11, bpm=124, key="G minor", duration_s=20, samplerate=SR)
    mix = 2.0 * song["drums"] + song["bass"] + 0.7 * song["other"] + song["vocals"]
    return mix.astype(np.float32)


def test_limited_master_meets_loudness_and_true_peak(hot_mix):
    result = mastering.normalise_loudness(hot_mix, SR)
    assert result.limited  # the case that needs the limiter's iterations
    assert analysis.integrated_loudness(result.audio, SR) == pytest.approx(-14.0, abs=0.1)
    assert result.integrated_lufs == pytest.approx(-14.0, abs=0.1)
    # Measured again from the output, independently of the envelope the limiter used.
    assert analysis.true_peak_dbtp(result.audio) <= mastering.CEILING_DBTP + 1e-3
    assert result.true_peak_dbtp <= mastering.CEILING_DBTP + 1e-3


def resample_poly_envelope(audio: np.ndarray) -> np.ndarray:
    """The envelope as first written: scipy's 4x resample_poly, block by block."""
    n, block, context = audio.shape[-1], 1 << 16, 256
    env = np.empty(n, dtype=np.float32)
    for start in range(0, n, block):
        stop = min(n, start + block)
        lo, hi = max(0, start - context), min(n, stop + context)
        up = signal.resample_poly(audio[:, lo:hi], 4, 1, axis=-1)
        up = np.abs(up[:, (start - lo) * 4 : (stop - lo) * 4]).max(axis=0)
        env[start:stop] = np.maximum(
            up.reshape(-1, 4).max(axis=1), np.abs(audio[:, start:stop]).max(axis=0)
        )
    return env


def test_envelope_is_resample_polys_on_any_number_of_threads(hot_mix):
    reference = resample_poly_envelope(hot_mix)
    serial = analysis.true_peak_envelope(hot_mix)
    np.testing.assert_allclose(serial, reference, rtol=2e-6, atol=1e-7)
    with ThreadPoolExecutor(3) as pool:
        for pieces in (2, 3, 7):
            threaded = analysis.true_peak_envelope(hot_mix, executor=pool, pieces=pieces)
            np.testing.assert_array_equal(threaded, serial)
    # The edges: the signal is zero beyond both ends, as resample_poly pads it.
    short = hot_mix[:, :5000]
    np.testing.assert_allclose(
        analysis.true_peak_envelope(short), resample_poly_envelope(short), rtol=2e-6, atol=1e-7
    )


def _libebur128(audio: np.ndarray) -> tuple[float, float]:
    """Integrated loudness and true peak (dBTP) by libebur128: another meter, another
    interpolator than the master's."""
    state = pyebur128.R128State(
        audio.shape[0],
        SR,
        pyebur128.MeasurementMode.MODE_I | pyebur128.MeasurementMode.MODE_TRUE_PEAK,
    )
    state.add_frames(np.ascontiguousarray(audio.T).reshape(-1), audio.shape[1])
    peak = max(pyebur128.get_true_peak(state, c) for c in range(audio.shape[0]))
    return pyebur128.get_loudness_global(state), 20 * math.log10(peak)


def test_limited_master_measures_the_mix_once_and_reports_the_result(monkeypatch):
    """One loudness measurement and one true-peak pass over the whole mix: the limited
    candidates are read from the mix's measurement (only the hops the limiter changed
    are filtered again), two of them, yet what the master reports is what meters read
    on its output."""
    song = synth_track(seed=11, bpm=124, key="G minor", duration_s=20, samplerate=SR)
    calls: list[str] = []
    names = (
        "hop_energies",
        "true_peak_envelope",
        "integrated_loudness_fast",
        "loudness_after_gain",
    )
    for name in names:
        real = getattr(mastering, name)
        monkeypatch.setattr(
            mastering, name, lambda *a, _r=real, _n=name, **k: (calls.append(_n), _r(*a, **k))[1]
        )
    for mix in (0.05 * song["mix"], 2.0 * song["drums"] + song["bass"] + song["vocals"]):
        calls.clear()
        result = mastering.normalise_loudness(mix.astype(np.float32), SR)
        assert result.limited
        # Two limited candidates read: the first gain, then one secant step.
        assert sorted(calls) == [
            "hop_energies", "loudness_after_gain", "loudness_after_gain", "true_peak_envelope"
        ]  # fmt: skip
        assert result.integrated_lufs == pytest.approx(-14.0, abs=0.05)
        lufs, peak_dbtp = _libebur128(result.audio)
        assert lufs == pytest.approx(result.integrated_lufs, abs=1e-4)
        assert result.true_peak_dbtp == pytest.approx(
            analysis.true_peak_dbtp(result.audio), abs=1e-4
        )
        assert result.true_peak_dbtp <= mastering.CEILING_DBTP
        assert peak_dbtp <= mastering.CEILING_DBTP


def test_a_short_margin_is_trimmed_to_the_ceiling(monkeypatch, hot_mix):
    """Should the limiter's margin fall short (here it aims 0.5 dB over the ceiling), the
    true peak measured on the result catches it and the result is turned down to it."""
    monkeypatch.setattr(mastering, "_LIMITER_MARGIN_DB", -0.5)
    result = mastering.normalise_loudness(hot_mix, SR)
    assert result.limited
    assert analysis.true_peak_dbtp(result.audio) == pytest.approx(mastering.CEILING_DBTP, abs=1e-3)
    assert result.true_peak_dbtp == pytest.approx(mastering.CEILING_DBTP, abs=1e-3)
    # The trim is a plain gain: the reported loudness is still the output's.
    assert _libebur128(result.audio)[0] == pytest.approx(result.integrated_lufs, abs=1e-4)
    assert result.integrated_lufs == pytest.approx(-14.5, abs=0.06)


@pytest.mark.parametrize("seed", range(4))
def test_true_peak_after_gain_is_the_results_envelope(hot_mix, seed):
    """The master's true peak: the mix's envelope times the gain, re-computed from the
    output only near the limited stretches, is the peak of the output's own envelope."""
    rng = np.random.default_rng(seed)
    n = hot_mix.shape[-1]
    bounds = np.sort(rng.choice(n, size=2 * int(rng.integers(1, 12)), replace=False))
    if seed == 0:
        bounds[0], bounds[-1] = 0, n  # stretches at both ends
    stretches = bounds.reshape(-1, 2)
    g = np.float32(rng.uniform(0.3, 3.0))
    curve = np.ones(n, dtype=np.float32)
    for a, b in stretches:
        curve[a:b] = rng.uniform(0.05, 1.0, size=b - a)
    out = hot_mix * (g * curve)
    envelope = analysis.true_peak_envelope(hot_mix)
    peak = true_peak.true_peak_after_gain(out, envelope, g, stretches)
    assert peak == pytest.approx(float(analysis.true_peak_envelope(out).max()), rel=1e-6)
    with ThreadPoolExecutor(3) as pool:
        for pieces in (2, 3, 30):
            spread = true_peak.true_peak_after_gain(
                out, envelope, g, stretches, executor=pool, pieces=pieces
            )
            assert spread == peak, pieces


def test_overwrite_masters_the_mix_in_place_with_the_same_result(hot_mix):
    """The render hands its mix over: the result is written into it, sample for sample
    what a new array would hold; without ``overwrite`` the mix is left as it was."""
    before = hot_mix.copy()
    expected = mastering.normalise_loudness(hot_mix, SR)
    np.testing.assert_array_equal(hot_mix, before)
    mix = hot_mix.copy()
    result = mastering.normalise_loudness(mix, SR, overwrite=True)
    assert np.shares_memory(result.audio, mix)
    np.testing.assert_array_equal(result.audio, expected.audio)
    assert (result.integrated_lufs, result.true_peak_dbtp) == (
        expected.integrated_lufs, expected.true_peak_dbtp
    )  # fmt: skip
    # A float64 mix is converted, so the conversion is what gets overwritten.
    as_double = hot_mix.astype(np.float64)
    result = mastering.normalise_loudness(as_double, SR)
    np.testing.assert_array_equal(as_double, hot_mix.astype(np.float64))
    np.testing.assert_array_equal(result.audio, expected.audio)


def test_mono_as_one_dimensional_audio_is_mastered(hot_mix):
    """A 1-D mono mix (the shape ``analysis`` treats as mono) comes back 1-D, on target
    (main's compiled meter indexed it as two-dimensional and failed)."""
    result = mastering.normalise_loudness(hot_mix[0], SR)
    assert result.audio.shape == hot_mix[0].shape
    assert result.limited
    assert analysis.integrated_loudness_fast(result.audio, SR) == pytest.approx(
        result.integrated_lufs, abs=1e-4
    )
    assert result.integrated_lufs == pytest.approx(-14.0, abs=0.05)
    assert analysis.true_peak_dbtp(result.audio) <= mastering.CEILING_DBTP
