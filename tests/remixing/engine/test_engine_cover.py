"""Sing your own cover, in the engine alone (no Django): the round-trip latency found from
a known click, the take placed at its compensated offset, and the take in the export."""

from __future__ import annotations

import numpy as np
import pytest

from remixing.engine.audio_io import load_audio
from remixing.engine.cover import Cover, CoverError, cover_place, cover_validate, latency_estimate
from remixing.engine.render import RenderError, render_mix, render_remix

SR = 44100
TAKE = "c0" * 16


def click(sr: int = SR) -> np.ndarray:
    """What the studio plays to measure latency: 5 ms of a decaying 2 kHz burst."""
    n = round(0.005 * sr)
    t = np.arange(n) / sr
    return (np.sin(2 * np.pi * 2000 * t) * np.exp(-t * 600)).astype(np.float32)


def onset(audio: np.ndarray, threshold: float) -> int:
    mono = np.abs(np.asarray(audio)).max(axis=0) if audio.ndim == 2 else np.abs(audio)
    return int(np.argmax(mono > threshold))


@pytest.mark.parametrize("latency_ms", [0.0, 12.3, 37.5, 180.0, 412.7])
def test_latency_of_a_known_click_is_found_to_the_sample(latency_ms):
    rng = np.random.default_rng(7)
    scheduled_s = 0.25
    recorded = rng.normal(0, 0.01, SR * 2).astype(np.float32)  # a room's noise floor
    at = round((scheduled_s + latency_ms / 1000) * SR)
    # The microphone path: quieter, slightly smeared, late.
    picked_up = 0.3 * np.convolve(click(), [0.6, 0.3, 0.1])
    recorded[at : at + picked_up.size] += picked_up
    found = latency_estimate(click(), recorded, samplerate=SR, scheduled_s=scheduled_s)
    assert found is not None
    assert abs(found * SR - latency_ms / 1000 * SR) <= 1


def test_no_click_in_the_recording_is_no_latency_rather_than_a_guess():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.1, SR).astype(np.float32)
    assert latency_estimate(click(), noise, samplerate=SR, scheduled_s=0.1) is None
    assert latency_estimate(click(), np.zeros(SR), samplerate=SR, scheduled_s=0.1) is None
    assert latency_estimate(click(), np.zeros(10), samplerate=SR, scheduled_s=0.0) is None


def test_the_take_lands_where_it_was_sung_once_lead_and_latency_are_taken_off():
    mix = np.zeros((2, SR * 3), dtype=np.float32)
    cover = Cover(take=TAKE, lead_s=1.5, latency_ms=37.5)
    take = np.zeros(SR * 5, dtype=np.float32)
    sung_at_s = 0.8  # music time the fan sang this note at
    start = round((cover.lead_s + sung_at_s) * SR + 0.0375 * SR)
    take[start : start + 100] = 0.5
    out = cover_place(mix, take, SR, cover)
    assert out.shape == mix.shape  # the track's length, whatever the take's
    assert onset(out, 0.25) == round(sung_at_s * SR)
    assert np.all(out[0] == out[1])  # a mono take sits in the middle
    quieter = cover_place(mix, take, SR, Cover(take=TAKE, lead_s=1.5, latency_ms=37.5, gain_db=-6))
    assert np.isclose(np.abs(quieter).max(), 0.5 * 10 ** (-6 / 20), rtol=1e-5)


def test_cover_validation_names_each_bad_field():
    with pytest.raises(CoverError) as bad:
        cover_validate({"version": 1, "take": "nope", "lead_s": 99, "latency_ms": -1, "x": 1})
    fields = {path for path, _ in bad.value.errors}
    assert fields == {"cover.take", "cover.lead_s", "cover.latency_ms", "cover.x"}
    ok = cover_validate({"version": 1, "take": TAKE})
    assert ok == Cover(take=TAKE) and ok.as_dict()["latency_ms"] == 0.0


def _tone(seconds: float, hz: float = 660.0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return (0.4 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _stems() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    bed = rng.normal(0, 0.002, (2, SR * 4)).astype(np.float32)  # a very quiet backing
    return {"bass": bed, "vocals": bed.copy()}


def _take(lead_s: float, latency_ms: float, sung_at_s: float) -> np.ndarray:
    take = np.zeros(round((lead_s + 4) * SR), dtype=np.float32)
    at = round((lead_s + sung_at_s) * SR + latency_ms / 1000 * SR)
    tone = _tone(1.0)
    take[at : at + tone.size] = tone
    return take


def test_the_mix_has_the_take_at_the_compensated_offset_within_a_few_samples():
    recipe = {
        "version": 1,
        "stems": {"vocals": {"mute": True}},
        "cover": {"version": 1, "take": TAKE, "lead_s": 2.0, "latency_ms": 48.3},
    }
    take = _take(2.0, 48.3, sung_at_s=1.25)
    mix = render_mix(_stems(), recipe, samplerate=SR, takes={TAKE: take})
    assert abs(onset(mix, 0.1) - round(1.25 * SR)) <= 3
    # Without compensation it would have landed 48 ms (2130 samples) late.
    assert abs(onset(mix, 0.1) - round((1.25 + 0.0483) * SR)) > 2000


def test_the_take_goes_through_the_same_effects_as_the_stems():
    take = _take(0.0, 0.0, sung_at_s=1.0)
    base = {"version": 1, "cover": {"version": 1, "take": TAKE}}
    dry = render_mix(_stems(), base, samplerate=SR, takes={TAKE: take})
    low = render_mix(
        _stems(), base | {"effects": {"lowpass_hz": 200}}, samplerate=SR, takes={TAKE: take}
    )
    window = slice(round(1.2 * SR), round(1.8 * SR))
    assert np.abs(low[:, window]).max() < 0.5 * np.abs(dry[:, window]).max()


def test_a_missing_take_fails_the_render_in_plain_words():
    recipe = {"version": 1, "cover": {"version": 1, "take": TAKE}}
    with pytest.raises(RenderError, match="cover take"):
        render_mix(_stems(), recipe, samplerate=SR, takes={})


def test_the_exported_file_has_the_take_at_the_compensated_offset(tmp_path):
    recipe = {
        "version": 1,
        "stems": {"vocals": {"mute": True}},
        "cover": {"version": 1, "take": TAKE, "lead_s": 1.0, "latency_ms": 120.0},
    }
    take_path = tmp_path / "take.wav"
    import soundfile

    soundfile.write(take_path, _take(1.0, 120.0, sung_at_s=0.75), SR)
    result = render_remix(
        _stems(),
        recipe,
        samplerate=SR,
        out_dir=tmp_path,
        basename="cover",
        formats=("wav",),
        tags={"remixer": "fan", "original_title": "Song", "cover_performer": "fan"},
        takes={TAKE: take_path},
    )
    audio, _ = load_audio(result.files["wav"], samplerate=SR)
    peak = np.abs(audio).max()
    assert abs(onset(audio, 0.25 * peak) - round(0.75 * SR)) <= 3
    # The fan is credited as the cover's performer in the file's tags.
    from remixing.engine.tagging import read_tags

    tags = read_tags(result.files["wav"])
    assert tags["TXXX:COVER_PERFORMER"] == ["fan"]


# ---- the take follows the track's tempo --------------------------------------------------

BEAT_S = 1.5  # a beat of the track (track time): the fan sings a short note right on it


def _pip(hz: float = 1000.0) -> np.ndarray:
    """A short, sharp note: its onset is easy to find after a stretch."""
    t = np.arange(round(0.03 * SR)) / SR
    return (0.6 * np.sin(2 * np.pi * hz * t) * np.exp(-t * 80)).astype(np.float32)


def _take_on_the_beat(*, lead_s: float, latency_ms: float, sung_tempo: float) -> np.ndarray:
    """What the microphone caught: count-in, then a note on the beat as the fan heard it at
    ``sung_tempo`` (output time BEAT_S / sung_tempo), delivered ``latency_ms`` late."""
    take = np.zeros(round((lead_s + 4) * SR), dtype=np.float32)
    at = round((lead_s + BEAT_S / sung_tempo + latency_ms / 1000) * SR)
    take[at : at + _pip().size] = _pip()
    return take


def _cover(*, sung_tempo: float | None) -> dict:
    cover = {"version": 2, "take": TAKE, "lead_s": 2.0, "latency_ms": 41.0}
    if sung_tempo is not None:
        cover["sung_tempo_ratio"] = sung_tempo
    return cover


def _beat_in(mix: np.ndarray) -> float:
    """Seconds at which the note starts in the rendered mix."""
    return onset(mix, 0.3 * float(np.abs(mix).max())) / SR


@pytest.mark.parametrize(
    ("sung_tempo", "new_tempo"), [(1.0, 0.85), (1.0, 1.15), (1.15, 0.85), (0.85, 1.0)]
)
def test_a_take_sung_on_a_beat_stays_on_it_after_a_tempo_change(sung_tempo, new_tempo):
    take = _take_on_the_beat(lead_s=2.0, latency_ms=41.0, sung_tempo=sung_tempo)
    recipe = {"version": 1, "tempo_ratio": new_tempo, "cover": _cover(sung_tempo=sung_tempo)}
    mix = render_mix(_stems(), recipe, samplerate=SR, takes={TAKE: take})
    beat_now = BEAT_S / new_tempo  # where the stems put that beat at the new tempo
    assert abs(_beat_in(mix) - beat_now) < 0.005
    # Left where it was sung, it would be off by tens of milliseconds or more.
    assert abs(BEAT_S / sung_tempo - beat_now) > 0.05


def test_the_stretched_take_keeps_its_pitch():
    take = _take_on_the_beat(lead_s=2.0, latency_ms=0.0, sung_tempo=1.0)
    tone = _tone(1.0, hz=500.0)
    take[round(2.5 * SR) : round(2.5 * SR) + tone.size] = tone
    recipe = {"version": 1, "tempo_ratio": 0.85, "cover": _cover(sung_tempo=1.0)}
    mix = render_mix(_stems(), recipe, samplerate=SR, takes={TAKE: take})
    held = mix.mean(axis=0)[round(0.8 * SR) : round(1.5 * SR)]
    freqs = np.fft.rfftfreq(held.size, 1 / SR)
    peak_hz = freqs[np.argmax(np.abs(np.fft.rfft(held * np.hanning(held.size))))]
    assert abs(peak_hz - 500.0) < 10  # varispeed would have made it 425 Hz


def test_a_preset_that_changes_the_tempo_keeps_the_take_on_the_beat():
    from remixing.engine.presets import preset_keep_cover, preset_recipe

    # A cover saved before the sung tempo was recorded (version 1): sung at 1.0.
    current = {"version": 1, "cover": _cover(sung_tempo=None) | {"version": 1}}
    preset = preset_recipe("workout", stems=["bass", "vocals"], source_tempo_bpm=120.0)
    applied = preset_keep_cover(preset, current=current)
    new_tempo = applied["tempo_ratio"]
    assert new_tempo != 1.0 and applied["cover"]["sung_tempo_ratio"] == 1.0
    take = _take_on_the_beat(lead_s=2.0, latency_ms=41.0, sung_tempo=1.0)
    mix = render_mix(_stems(), applied, samplerate=SR, takes={TAKE: take})
    assert abs(_beat_in(mix) - BEAT_S / new_tempo) < 0.005


def test_a_cover_without_its_sung_tempo_was_sung_at_the_recipes_tempo():
    from remixing.engine.recipe import recipe_to_dict, recipe_validate

    old = {"version": 1, "tempo_ratio": 1.15, "cover": {"version": 1, "take": TAKE}}
    recipe = recipe_validate(old, stems=["bass", "vocals"])
    assert recipe.cover.sung_tempo_ratio == 1.15 and recipe.cover.version == 2
    assert recipe_to_dict(recipe)["cover"]["sung_tempo_ratio"] == 1.15
    take = _take_on_the_beat(lead_s=0.0, latency_ms=0.0, sung_tempo=1.15)
    mix = render_mix(_stems(), old, samplerate=SR, takes={TAKE: take})
    assert abs(_beat_in(mix) - BEAT_S / 1.15) < 0.005  # played as it was, unstretched


def test_the_new_cover_fields_are_checked():
    with pytest.raises(CoverError) as bad:
        cover_validate({"version": 2, "take": TAKE, "sung_tempo_ratio": 3, "mute": "yes"})
    assert {p for p, _ in bad.value.errors} == {"cover.sung_tempo_ratio", "cover.mute"}
    with pytest.raises(CoverError) as old:
        cover_validate({"version": 1, "take": TAKE, "sung_tempo_ratio": 1.0})
    assert [p for p, _ in old.value.errors] == ["cover.sung_tempo_ratio"]  # not in version 1
    with pytest.raises(CoverError):
        cover_validate({"version": 3, "take": TAKE})


def test_a_muted_cover_is_left_out_of_the_mix():
    take = _take(0.0, 0.0, sung_at_s=1.0)
    muted = {"version": 1, "cover": {"version": 2, "take": TAKE, "mute": True}}
    mix = render_mix(_stems(), muted, samplerate=SR, takes={TAKE: take})
    assert np.abs(mix).max() < 0.05  # only the quiet backing


def test_the_cover_tempo_range_is_the_recipes():
    from remixing.engine import cover, recipe

    assert (cover.SUNG_TEMPO_MIN, cover.SUNG_TEMPO_MAX) == (recipe.TEMPO_MIN, recipe.TEMPO_MAX)
