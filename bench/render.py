"""Benchmark: rendering a remix of synthesised stems, with and without tempo/key change.

    python bench/render.py --seconds 180 --repeat 1

Prints a table with per-stage timings and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--formats", default="mp3,ogg")
    args = parser.parse_args()
    formats = tuple(f for f in args.formats.split(",") if f)

    stems = make_stems(args.seconds)
    results = []
    with tempfile.TemporaryDirectory() as out_dir:
        for name, recipe in SCENARIOS.items():
            totals, stages, result = [], {}, None
            for _ in range(args.repeat):
                start = time.perf_counter()
                result = render_remix(
                    stems, recipe, samplerate=SR, out_dir=out_dir, basename="bench",
                    formats=formats, tags=TAGS,
                )  # fmt: skip
                totals.append(time.perf_counter() - start)
                for stage, seconds in result.timings_s.items():
                    stages.setdefault(stage, []).append(seconds)
            assert result is not None
            results.append(
                {
                    "scenario": name,
                    "total_s": round(statistics.mean(totals), 3),
                    "min_s": round(min(totals), 3),
                    "rtf": round(statistics.mean(totals) / args.seconds, 4),
                    "stages_s": {k: round(statistics.mean(v), 3) for k, v in stages.items()},
                    "output_s": round(result.duration_s, 2),
                    "lufs": round(result.integrated_lufs, 2),
                    "true_peak_dbtp": round(result.true_peak_dbtp, 2),
                }
            )

    stage_names = ["load", "mix", "stretch", "effects", "master"] + [f"encode_{f}" for f in formats]
    print(f"render bench: {args.seconds:.0f} s of 4 stems @ {SR} Hz, formats={','.join(formats)}")
    header = f"{'scenario':<20}{'total s':>9}{'RTF':>8}" + "".join(f"{s:>12}" for s in stage_names)
    print(header + f"{'LUFS':>8}{'dBTP':>7}")
    for r in results:
        cells = "".join(f"{r['stages_s'].get(s, 0.0):>12.2f}" for s in stage_names)
        print(
            f"{r['scenario']:<20}{r['total_s']:>9.2f}{r['rtf']:>8.3f}{cells}"
            f"{r['lufs']:>8.2f}{r['true_peak_dbtp']:>7.2f}"
        )
    print(json.dumps({"bench": "render", "audio_s": args.seconds, "formats": formats,
                      "repeat": args.repeat, "results": results}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
