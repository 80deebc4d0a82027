"""Benchmark: rendering a remix of synthesised stems, with and without tempo/key change.

    python bench/render.py --seconds 180 --repeat 1
    python bench/render.py --short            # 30 s of audio (bench/all.py); --small too

Prints a table with per-stage timings and, beside each stage, the floor of the
library calls it cannot avoid, measured in the same run on the same audio:
mix = summing the stems with numpy; stretch = the same Rubber Band pieces the
render cuts, stretched at once in threads (and, beside it, one pedalboard.time_stretch
over the whole mix: the one-pass figure the pieces replace); effects = one
pedalboard board; master = one loudness measurement plus one oversampled true-peak
pass, with the compiled kernels the stage uses, on the same cores; encode = the
ffmpeg encoders alone, reading the PCM from a file, run concurrently. Before the
measured renders, one unmeasured 10 s render (what a worker pays once; --cold skips
it). Then the ratio, and last one JSON line. Beside wall time, each
scenario's CPU seconds (this process and its ffmpeg children): on a shared
machine they say what the work costs when wall time says how busy the box is.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from concurrent.futures import ThreadPoolExecutor

import pedalboard

from remixing.engine import mixing, stretch
from remixing.engine.analysis import true_peak_envelope
from remixing.engine.audio_io import encode_to, mp3_args, ogg_args
from remixing.engine.loudness import integrated_loudness
from remixing.engine.parallel import available_cores
from remixing.engine.recipe import recipe_validate
from remixing.engine.render import render_remix
from remixing.engine.synth import STEMS, synth_track

SR = 44100
TAGS = {
    "remixer": "Bench",
    "original_title": "Benchmark Song",
    "original_artists": ["Synth Band"],
    "songwriters": ["A. Writer"],
    "isrc": "XXA0Z2600001",
    "iswc": "T-000.000.001-0",
    "remix_id": "bench",
}
EFFECTS = {
    "lowpass_hz": 9000.0,
    "compressor": {"threshold_db": -18.0, "ratio": 3.0},
    "reverb": {"room_size": 0.4, "wet": 0.15},
}
SCENARIOS = {
    "mix only": {"version": 1, "stems": {"vocals": {"gain_db": -3.0}, "drums": {"gain_db": 2.0}}},
    "effects": {"version": 1, "stems": {"vocals": {"gain_db": -3.0}}, "effects": EFFECTS,
                "fade_in_s": 1.0, "fade_out_s": 3.0},
    "tempo+key+effects": {"version": 1, "stems": {"vocals": {"gain_db": -3.0}},
                          "tempo_ratio": 1.1, "key_shift": 2, "effects": EFFECTS,
                          "fade_in_s": 1.0, "fade_out_s": 3.0},
}  # fmt: skip


def make_stems(seconds: float) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {name: [] for name in STEMS}
    have, seed = 0, 0
    while have < seconds * SR:
        song = synth_track(seed=seed, bpm=100 + 6 * seed, key="E minor", duration_s=40)
        for name in STEMS:
            parts[name].append(song[name])
        have += song["mix"].shape[-1]
        seed += 1
    n = int(seconds * SR)
    return {name: np.concatenate(p, axis=-1)[:, :n] for name, p in parts.items()}


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _stretch_call(audio: np.ndarray, recipe_obj) -> np.ndarray:
    return pedalboard.time_stretch(
        np.ascontiguousarray(audio), float(SR), stretch_factor=float(recipe_obj.tempo_ratio),
        pitch_shift_in_semitones=float(recipe_obj.key_shift), high_quality=True,
        preserve_formants=True,
    )  # fmt: skip


def _encode_floor(audio: np.ndarray, formats, out_dir: str) -> float:
    """The encoders alone: each ffmpeg reads the PCM from a file (written before the clock
    starts), all at once; lossless formats are libsndfile's write."""
    raw = Path(out_dir) / "floor.f32"
    raw.write_bytes(np.ascontiguousarray(audio.T, dtype="<f4").tobytes())
    args = {"mp3": mp3_args(), "ogg": ogg_args()}

    def one(fmt: str) -> None:
        if fmt not in args:
            encode_to(Path(out_dir) / f"floor.{fmt}", audio, SR, fmt)
            return
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(SR),
             "-ac", str(audio.shape[0]), "-i", str(raw), *args[fmt],
             str(Path(out_dir) / f"floor.{fmt}")],
            check=True,
        )  # fmt: skip

    def encode_all() -> None:
        with ThreadPoolExecutor(len(formats)) as pool:
            list(pool.map(one, formats))

    return _timed(encode_all)


def floors(
    stems: dict[str, np.ndarray], recipe: dict, formats, out_dir: str
) -> tuple[dict[str, float], dict[str, float]]:
    """The library calls each stage cannot do without, timed alone; and, beside the
    stretch floor (the same pieces ours cuts, stretched at once in threads), the one
    Rubber Band pass over the whole mix that the pieces replace."""
    recipe_obj = recipe_validate(recipe, stems=list(stems), duration_s=None)
    result: dict[str, float] = {}
    one_pass: dict[str, float] = {}
    mix = None

    def mix_floor():
        nonlocal mix
        mix = np.sum(np.stack(list(stems.values())), axis=0, dtype=np.float32)

    result["mix"] = _timed(mix_floor)
    assert mix is not None
    stretched = mix
    if recipe_obj.tempo_ratio != 1.0 or recipe_obj.key_shift:
        spans, _ = stretch.piece_spans(mix, SR, available_cores())

        def pieces_floor():
            with ThreadPoolExecutor(len(spans)) as pool:
                list(pool.map(lambda ab: _stretch_call(mix[:, ab[0] : ab[1]], recipe_obj), spans))

        def one_pass_floor():
            nonlocal stretched
            stretched = _stretch_call(mix, recipe_obj)

        result["stretch"] = _timed(pieces_floor)
        one_pass["stretch"] = _timed(one_pass_floor)
    board = mixing.effects_board(recipe_obj.effects)
    if board is not None:
        result["effects"] = _timed(lambda: board(stretched, float(SR)))
    cores = available_cores()

    def master_floor():
        # One measurement of each kind with the kernels the stage uses, on the same cores.
        with ThreadPoolExecutor(cores) as pool:
            integrated_loudness(stretched, SR, executor=pool, pieces=cores)
            true_peak_envelope(stretched, executor=pool, pieces=cores)

    result["master"] = _timed(master_floor)
    result["encode"] = _encode_floor(np.clip(stretched * 0.3, -1, 1), formats, out_dir)
    return result, one_pass


def run_scenario(stems, name: str, recipe: dict, formats, out_dir: str, repeat: int) -> dict:
    totals, cpus, stages, result = [], [], {}, None
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        result = render_remix(
            stems, recipe, samplerate=SR, out_dir=out_dir, basename="bench",
            formats=formats, tags=TAGS,
        )  # fmt: skip
        totals.append(time.perf_counter() - start)
        cpus.append(_cpu_seconds() - cpu_start)
        for stage, seconds in result.timings_s.items():
            stages.setdefault(stage, []).append(seconds)
    assert result is not None
    floor, one_pass = floors(stems, recipe, formats, out_dir)
    seconds = result.duration_s
    return {
        "scenario": name,
        "total_s": round(statistics.mean(totals), 3),
        "min_s": round(min(totals), 3),
        "cpu_s": round(statistics.mean(cpus), 3),
        "rtf": round(statistics.mean(totals) / seconds, 4),
        "stages_s": {k: round(statistics.mean(v), 3) for k, v in stages.items()},
        "floor_s": {k: round(v, 3) for k, v in floor.items()},
        "floor_total_s": round(sum(floor.values()), 3),
        "one_pass_stretch_s": round(one_pass.get("stretch", 0.0), 3),
        "ratio": round(statistics.mean(totals) / sum(floor.values()), 2),
        "output_s": round(seconds, 2),
        "lufs": round(result.integrated_lufs, 2),
        "true_peak_dbtp": round(result.true_peak_dbtp, 2),
    }


def print_table(results: list[dict]) -> None:
    stage_names = ["load", "mix", "stretch", "effects", "master", "encode"]
    header = f"{'scenario':<20}{'total':>8}{'cpu s':>7}{'floor':>7}{'ratio':>7}"
    print(
        header + "".join(f"{s:>14}" for s in stage_names) + f"{'1-pass':>8}{'LUFS':>8}{'dBTP':>7}"
    )
    for r in results:
        cells = "".join(
            f"{r['stages_s'].get(s, 0.0):>8.2f}/{r['floor_s'].get(s, 0.0):<5.2f}"
            for s in stage_names
        )
        print(
            f"{r['scenario']:<20}{r['total_s']:>8.2f}{r['cpu_s']:>7.2f}{r['floor_total_s']:>7.2f}"
            f"{r['ratio']:>7.2f}{cells}{r['one_pass_stretch_s']:>8.2f}"
            f"{r['lufs']:>8.2f}{r['true_peak_dbtp']:>7.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--formats", default="mp3,ogg")
    parser.add_argument("--short", "--small", dest="short", action="store_true",
                        help="30 s of audio")  # fmt: skip
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up render before the measured ones")  # fmt: skip
    args = parser.parse_args()
    if args.short:
        args.seconds = 30.0
    formats = tuple(f for f in args.formats.split(",") if f)

    stems = make_stems(args.seconds)
    with tempfile.TemporaryDirectory() as out_dir:
        if not args.cold:
            # What a worker pays once per process (first-touch of large buffers, lazy
            # library set-up): one unmeasured 10 s render, so the rows show a warm worker.
            warm = {name: audio[:, : 10 * SR] for name, audio in stems.items()}
            render_remix(warm, SCENARIOS["mix only"], samplerate=SR, out_dir=out_dir,
                         basename="warm", formats=formats, tags=TAGS)  # fmt: skip
        results = [
            run_scenario(stems, name, recipe, formats, out_dir, args.repeat)
            for name, recipe in SCENARIOS.items()
        ]

    print(f"render bench: {args.seconds:.0f} s of 4 stems @ {SR} Hz, formats={','.join(formats)}, "
          f"{available_cores()} cores, "
          + ("cold (first render of the process measured)" if args.cold
             else "after one unmeasured 10 s warm-up render"))  # fmt: skip
    print("each stage: ours / floor (s); stretch floor = the same pieces stretched at once,")
    print("1-pass = one Rubber Band pass over the whole mix; encode = all formats at once")
    print_table(results)
    goals = {"mix only": 2.0, "tempo+key+effects": 8.0}  # seconds, for 180 s of audio
    verdict = {
        name: round(r["total_s"] * 180.0 / args.seconds, 2)
        for r in results
        if (name := r["scenario"]) in goals
    }
    print(json.dumps({"bench": "render", "audio_s": args.seconds, "formats": formats,
                      "repeat": args.repeat, "warm": not args.cold,
                      "cores": available_cores(), "goals_s_per_180s": goals,
                      "scaled_to_180s": verdict,
                      # Judged only on 3 minutes: shorter audio is stretched in one
                      # piece and carries fixed costs that do not scale with length.
                      "goals_met": ({k: verdict[k] <= goals[k] for k in verdict}
                                    if args.seconds >= 180 else None),
                      "results": results}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
