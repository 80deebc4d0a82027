"""End-to-end renders: loudness, true peak, tags, tempo, key, atomicity, bad stems."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from remixing.engine import audio_io, render
from remixing.engine.analysis import dominant_frequency, integrated_loudness, true_peak_dbtp
from remixing.engine.recipe import RecipeError
from remixing.engine.render import RenderError, render_remix
from remixing.engine.tagging import read_tags

SR = 44100


def files_in(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, short_stems):
    """One full render (mp3 + ogg + wav) shared by the loudness/tag tests."""
    out_dir = tmp_path_factory.mktemp("render")
    progress: list[float] = []
    recipe = {
        "version": 1,
        "stems": {"vocals": {"gain_db": -2.0}, "drums": {"gain_db": 3.0}},
        "effects": {
            "compressor": {"threshold_db": -20, "ratio": 3},
            "reverb": {"room_size": 0.3, "wet": 0.1},
        },
        "fade_in_s": 0.5,
        "fade_out_s": 1.0,
    }
    tags = {
        "remixer": "DJ Tester",
        "original_title": "Night Drive",
        "original_artists": ["The Originals", "Guest Singer"],
        "songwriters": ["Ann Writer", "Bo Composer"],
        "isrc": "USABC2600042",
        "iswc": "T-345.246.800-1",
        "remix_id": "rmx_01HTEST",
    }
    result = render_remix(
        short_stems,
        recipe,
        samplerate=SR,
        out_dir=out_dir,
        basename="remix",
        formats=("mp3", "ogg", "wav"),
        tags=tags,
        progress=progress.append,
    )
    return result, progress, out_dir


def test_render_writes_exactly_the_requested_files(rendered):
    result, progress, out_dir = rendered
    assert files_in(out_dir) == ["remix.mp3", "remix.ogg", "remix.wav"]
    assert set(result.files) == {"mp3", "ogg", "wav"}
    assert result.duration_s == pytest.approx(6.0, abs=1e-3)
    assert progress[0] == 0.0 and progress[-1] == 1.0
    assert progress == sorted(progress)


def test_loudness_and_true_peak(rendered):
    result, _, _ = rendered
    assert result.integrated_lufs == pytest.approx(-14.0, abs=0.5)
    assert result.true_peak_dbtp <= -1.0 + 0.01
    wav, rate = audio_io.load_audio(result.files["wav"])
    assert integrated_loudness(wav, rate) == pytest.approx(-14.0, abs=0.5)
    assert true_peak_dbtp(wav) <= -1.0 + 0.05  # 24-bit quantisation
    for fmt in ("mp3", "ogg"):  # lossy codecs add a little overshoot; -1 dBTP leaves room
        decoded, rate = audio_io.load_audio(result.files[fmt])
        assert integrated_loudness(decoded, rate) == pytest.approx(-14.0, abs=0.5)
        assert true_peak_dbtp(decoded) <= -0.3, fmt


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "wav"])
def test_every_credit_is_read_back_by_ffprobe(rendered, fmt):
    # Found: the exported MP3's composer tag named one of two songwriters
    # (ffmpeg and many players read only the first value of an ID3 frame).
    result, _, _ = rendered
    out = subprocess.run(
        ["ffprobe", "-loglevel", "error", "-show_entries", "format_tags:stream_tags",
         "-of", "json", str(result.files[fmt])],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    seen = json.dumps(json.loads(out), ensure_ascii=False)
    for name in ("The Originals", "Guest Singer", "Ann Writer", "Bo Composer"):
        assert name in seen, (fmt, name)


def test_tags_in_every_format(rendered):
    result, _, _ = rendered
    mp3 = read_tags(result.files["mp3"])
    assert mp3["TIT2"] == ["Night Drive (DJ Tester Remix)"]
    assert mp3["TPE1"] == ["DJ Tester remix"]
    assert mp3["TPE4"] == ["DJ Tester"]
    assert mp3["TXXX:REMIX_OF"] == ["Night Drive"]
    assert mp3["TOPE"] == ["The Originals, Guest Singer"]
    assert mp3["TXXX:ORIGINAL_ARTISTS"] == ["The Originals", "Guest Singer"]
    assert mp3["TCOM"] == ["Ann Writer, Bo Composer"]
    assert mp3["TXXX:SONGWRITERS"] == ["Ann Writer", "Bo Composer"]
    assert mp3["TXXX:SOURCE_ISRC"] == ["USABC2600042"]
    assert mp3["TXXX:ISWC"] == ["T-345.246.800-1"]
    assert mp3["TXXX:CLEARMIX_REMIX_ID"] == ["rmx_01HTEST"]
    assert "TSRC" not in mp3  # the remix must not claim the original's ISRC

    ogg = read_tags(result.files["ogg"])
    assert ogg["TITLE"] == ["Night Drive (DJ Tester Remix)"]
    assert ogg["ARTIST"] == ["DJ Tester remix"]
    assert ogg["REMIX_OF"] == ["Night Drive"]
    assert ogg["ORIGINAL_ARTISTS"] == ["The Originals", "Guest Singer"]
    assert ogg["COMPOSER"] == ["Ann Writer", "Bo Composer"]
    assert ogg["SOURCE_ISRC"] == ["USABC2600042"]
    assert ogg["ISWC"] == ["T-345.246.800-1"]
    assert ogg["CLEARMIX_REMIX_ID"] == ["rmx_01HTEST"]

    wav = read_tags(result.files["wav"])
    assert wav["TXXX:REMIX_OF"] == ["Night Drive"] and wav["TPE4"] == ["DJ Tester"]
    import soundfile

    with soundfile.SoundFile(str(result.files["wav"])) as f:  # RIFF INFO for ID3-blind players
        assert f.title == "Night Drive (DJ Tester Remix)" and f.artist == "DJ Tester remix"


def test_ogg_is_seekable(rendered):
    from mutagen.oggvorbis import OggVorbis

    result, _, _ = rendered
    info = OggVorbis(str(result.files["ogg"])).info
    assert info.length == pytest.approx(6.0, abs=0.05)  # from the last page's granule


def render_wav(tmp_path, stems, recipe, **kwargs):
    result = render_remix(
        stems,
        recipe,
        samplerate=SR,
        out_dir=tmp_path,
        basename="t",
        formats=("wav",),
        tags={"remixer": "T", "original_title": "O"},
        **kwargs,
    )
    audio, _ = audio_io.load_audio(result.files["wav"])
    return result, audio


@pytest.mark.parametrize("ratio", [0.8, 1.25, 2.0])
def test_tempo_ratio_changes_duration(tmp_path, short_stems, ratio):
    stems = {k: v[:, : 3 * SR] for k, v in short_stems.items()}
    result, audio = render_wav(tmp_path, stems, {"version": 1, "tempo_ratio": ratio})
    expected = 3.0 / ratio
    assert result.duration_s == pytest.approx(expected, rel=0.02)
    assert audio.shape[-1] / SR == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize(("semitones", "expected_hz"), [(12, 880.0), (7, 659.26), (-5, 329.63)])
def test_key_shift_moves_a_tone(tmp_path, make_sine, semitones, expected_hz):
    _, audio = render_wav(
        tmp_path, {"tone": make_sine(440, 2.0)}, {"version": 1, "key_shift": semitones}
    )
    middle = audio[:, SR // 4 : -SR // 4]
    assert dominant_frequency(middle, SR) == pytest.approx(expected_hz, rel=0.01)


def test_tempo_and_key_together_in_one_pass(tmp_path, make_sine):
    result, audio = render_wav(
        tmp_path,
        {"tone": make_sine(440, 2.0)},
        {"version": 1, "tempo_ratio": 1.25, "key_shift": 12},
    )
    assert result.duration_s == pytest.approx(1.6, rel=0.02)
    assert dominant_frequency(audio[:, SR // 4 : -SR // 4], SR) == pytest.approx(880, rel=0.01)


def test_solo_and_mute_reach_the_output(tmp_path, make_sine):
    stems = {"vocals": make_sine(440, 1.5), "other": make_sine(1000, 1.5)}
    _, solo = render_wav(tmp_path, stems, {"version": 1, "stems": {"vocals": {"solo": True}}})
    assert dominant_frequency(solo, SR) == pytest.approx(440, rel=0.005)
    _, muted = render_wav(tmp_path, stems, {"version": 1, "stems": {"vocals": {"mute": True}}})
    assert dominant_frequency(muted, SR) == pytest.approx(1000, rel=0.005)
    with pytest.raises(RenderError, match="mutes every stem"):
        render_wav(tmp_path, stems, {"version": 1, "stems": {n: {"mute": True} for n in stems}})


def test_region_selects_audio(tmp_path, make_sine):
    stems = {"a": np.concatenate([make_sine(440, 2.0), make_sine(880, 2.0)], axis=1)}
    result, audio = render_wav(
        tmp_path, stems, {"version": 1, "region": {"start_s": 2.5, "end_s": 3.5}}
    )
    assert result.duration_s == pytest.approx(1.0)
    assert dominant_frequency(audio, SR) == pytest.approx(880, rel=0.005)


def test_stems_from_files_of_other_rates(tmp_path, make_sine):
    src = tmp_path / "src"
    path = audio_io.write_audio(src / "a.flac", make_sine(440, 1.0)[:, ::2], 22050)
    result, audio = render_wav(tmp_path / "out", {"a": path}, {"version": 1})
    assert result.duration_s == pytest.approx(1.0, abs=0.01)
    assert dominant_frequency(audio, SR) == pytest.approx(440, rel=0.01)


def test_invalid_recipe_dict_raises_recipe_error(tmp_path, make_sine):
    with pytest.raises(RecipeError) as info:
        render_wav(tmp_path, {"a": make_sine(440, 1.0)}, {"version": 1, "tempo_ratio": 5})
    assert info.value.errors[0][0] == "tempo_ratio"
    assert files_in(tmp_path) == []


def test_corrupt_stem_raises_and_writes_nothing(tmp_path, make_sine):
    bad = tmp_path / "stems" / "vocals.flac"
    bad.parent.mkdir()
    bad.write_bytes(b"fLaC" + b"\x00" * 4000)
    out = tmp_path / "out"
    with pytest.raises(RenderError, match="stem 'vocals' could not be read"):
        render_remix(
            {"drums": make_sine(100, 1.0), "vocals": bad},
            {"version": 1},
            samplerate=SR,
            out_dir=out,
            basename="x",
            tags={"remixer": "T", "original_title": "O"},
        )
    assert not out.exists() or files_in(out) == []


@pytest.mark.parametrize(
    "stem",
    [np.full((2, SR), np.nan, dtype=np.float32), np.zeros((2, 0), dtype=np.float32)],
    ids=["nan", "empty"],
)
def test_bad_arrays_raise(tmp_path, stem):
    with pytest.raises(RenderError):
        render_wav(tmp_path, {"a": stem}, {"version": 1})
    assert files_in(tmp_path) == []


def test_encoder_failure_midway_leaves_no_output(tmp_path, make_sine, monkeypatch):
    real = render.encode_to

    def flaky(tmp, audio, samplerate, fmt, **options):
        if fmt == "ogg":
            tmp.write_bytes(b"partial")
            raise audio_io.AudioEncodeError("disk full")
        return real(tmp, audio, samplerate, fmt, **options)

    monkeypatch.setattr(render, "encode_to", flaky)
    existing = tmp_path / "keep.txt"
    existing.write_text("unrelated")
    with pytest.raises(RenderError, match="disk full"):
        render_remix(
            {"a": make_sine(440, 1.0)},
            {"version": 1},
            samplerate=SR,
            out_dir=tmp_path,
            basename="x",
            formats=("mp3", "ogg"),
            tags={"remixer": "T", "original_title": "O"},
        )
    assert files_in(tmp_path) == ["keep.txt"]  # the finished mp3 temp is gone too


def test_bad_arguments(tmp_path, make_sine):
    stems = {"a": make_sine(440, 1.0)}
    kwargs = dict(samplerate=SR, out_dir=tmp_path, tags={"remixer": "T", "original_title": "O"})
    with pytest.raises(RenderError, match="unsupported output format"):
        render_remix(stems, {"version": 1}, basename="x", formats=("aiff",), **kwargs)
    with pytest.raises(RenderError, match="basename"):
        render_remix(stems, {"version": 1}, basename="../x", **kwargs)
    with pytest.raises(RenderError, match="original_title"):
        render_remix(stems, {"version": 1}, basename="x", **(kwargs | {"tags": {"remixer": "T"}}))
    with pytest.raises(RenderError, match="unknown tag field"):
        render_remix(
            stems,
            {"version": 1},
            basename="x",
            **(kwargs | {"tags": {"remixer": "T", "original_title": "O", "bpm": 1}}),
        )
    assert files_in(tmp_path) == []


def test_quiet_and_hot_inputs_both_land_on_target(tmp_path, short_stems):
    for scale in (0.05, 4.0):
        stems = {k: v[:, : 3 * SR] * scale for k, v in short_stems.items()}
        result, _ = render_wav(tmp_path, stems, {"version": 1})
        assert result.integrated_lufs == pytest.approx(-14.0, abs=0.5)
        assert result.true_peak_dbtp <= -1.0 + 0.01
