"""Benchmark: separation quality (SDR against official stems) of every available backend.

Mixes the official stems of the demo tracks (synthesised exactly as ``seed_demo`` does), and of
tracks with other timbres (the same songs with each stem re-voiced through pedalboard
effects), separates each mix with every backend this install can run, and prints the
signal-to-distortion ratio per stem next to a trivial baseline (each stem = mix / 4).

SDR is BSS Eval's (512-tap distortion filter, as museval's v4 and the MUSDB18 figures), as
computed by ``fast_bss_eval`` over the whole clip, averaged over channels, then the median
over tracks (as MUSDB18 results are reported). Higher is better; 0 dB means the error is as
loud as the stem.

    python bench/separation_quality.py --seconds 20
    DEMUCS_MODEL_REPO=/srv/demucs python bench/separation_quality.py --demucs-model htdemucs

Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fast_bss_eval
import pedalboard

from marketplace.demo.catalog_data import TRACKS
from remixing.engine.backends import (
    DEMUCS,
    EMBEDDED,
    EMBEDDED_MODEL,
    SeparationSettings,
    backend_for,
)
from remixing.engine.demucs_weights import model_status
from remixing.engine.synth import synth_track

SR = 44100
STEMS = ("drums", "bass", "other", "vocals")
Separate = Callable[[np.ndarray], dict[str, np.ndarray]]


def demo_tracks(seconds: float) -> list[tuple[str, dict[str, np.ndarray]]]:
    out = []
    for track in TRACKS:
        stems = synth_track(
            seed=track.seed, bpm=track.bpm, key=track.key, duration_s=track.duration_s
        )
        out.append((track.title, _cut(stems, seconds)))
    return out


def _revoice(stems: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Other timbres: a compressed, brighter kit; a distorted, filtered bass; a chorused,
    reverberant pad; a voice a fourth higher. The new mix is the exact sum of the new stems."""
    chains = {
        "drums": [
            pedalboard.Compressor(threshold_db=-18, ratio=4),
            pedalboard.HighShelfFilter(cutoff_frequency_hz=4000, gain_db=6),
        ],
        "bass": [pedalboard.Distortion(drive_db=12), pedalboard.LowpassFilter(900)],
        "other": [pedalboard.Chorus(rate_hz=0.8, depth=0.4, mix=0.6), pedalboard.Reverb(0.6)],
        "vocals": [pedalboard.PitchShift(semitones=5), pedalboard.Delay(0.18, 0.25, 0.2)],
    }
    out = {}
    for name in STEMS:
        audio = pedalboard.Pedalboard(chains[name])(stems[name], SR)[:, : stems[name].shape[-1]]
        # Keep each stem's loudness: new timbres, same balance as the original song.
        gain = _rms(stems[name]) / max(_rms(audio), 1e-9)
        out[name] = (audio * gain).astype(np.float32)
    mix = sum(out.values())
    peak = float(np.max(np.abs(mix)))
    scale = min(1.0, 0.89 / peak) if peak > 0 else 1.0
    out = {name: audio * np.float32(scale) for name, audio in out.items()}
    out["mix"] = sum(out[name] for name in STEMS)
    return out


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def other_timbres(seconds: float, count: int) -> list[tuple[str, dict[str, np.ndarray]]]:
    songs = [(31, 98, "C minor"), (32, 132, "Bb major"), (33, 76, "F# minor"), (34, 110, "E major")]
    out = []
    for seed, bpm, key in songs[:count]:
        stems = synth_track(seed=seed, bpm=bpm, key=key, duration_s=max(20.0, seconds))
        out.append((f"revoiced {bpm} BPM {key}", _cut(_revoice(stems), seconds)))
    return out


def _cut(stems: dict[str, np.ndarray], seconds: float) -> dict[str, np.ndarray]:
    # Skip the first bar's intro (no drums yet) so every stem plays in the window.
    start = 2 * SR
    return {
        name: np.ascontiguousarray(a[:, start : start + int(seconds * SR)])
        for name, a in stems.items()
    }


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = fast_bss_eval.sdr(
            reference.astype(np.float64), estimate.astype(np.float64), filter_length=512
        )
    return float(np.mean(values))


def separators(args: argparse.Namespace) -> dict[str, Separate]:
    settings = SeparationSettings(demucs_device=args.device)
    out: dict[str, Separate] = {"baseline: mix / 4": lambda mix: {n: mix / 4 for n in STEMS}}
    embedded = backend_for(EMBEDDED, EMBEDDED_MODEL, settings)
    out[f"embedded {EMBEDDED_MODEL}"] = lambda mix: embedded.separate(mix, SR)
    repo = Path(args.demucs_repo) if args.demucs_repo else None
    for model in args.demucs_model:
        if not model_status(model, repo).available:
            print(f"(skipping Demucs {model}: no weights in {repo})", file=sys.stderr)
            continue
        backend = backend_for(
            DEMUCS, model, SeparationSettings(demucs_repo=repo, demucs_device=args.device)
        )
        label = f"demucs {model}" + (" (untrained)" if model == "demucs_unittest" else "")
        out[label] = lambda mix, backend=backend: backend.separate(mix, SR)
    return out


def evaluate(
    tracks: list[tuple[str, dict[str, np.ndarray]]], separate: Separate
) -> tuple[dict[str, float], float]:
    per_stem: dict[str, list[float]] = {name: [] for name in STEMS}
    compute = audio_s = 0.0
    for _title, stems in tracks:
        started = time.perf_counter()
        estimates = separate(stems["mix"])
        compute += time.perf_counter() - started
        audio_s += stems["mix"].shape[-1] / SR
        for name in STEMS:
            per_stem[name].append(sdr(stems[name], estimates[name]))
    medians = {name: statistics.median(values) for name, values in per_stem.items()}
    return medians, compute / audio_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="clip length per track")
    parser.add_argument("--variants", type=int, default=3, help="re-voiced tracks (0-4)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--demucs-repo", default=os.environ.get("DEMUCS_MODEL_REPO") or None)
    parser.add_argument(
        "--demucs-model",
        action="append",
        default=None,
        help="Demucs models to include when installed (default: htdemucs, htdemucs_ft, "
        "demucs_unittest)",
    )
    parser.add_argument(
        "--short", action="store_true", help="8 s clips, no re-voiced tracks (bench/all.py)"
    )
    args = parser.parse_args()
    if args.short:
        args.seconds, args.variants = 8.0, 0
    args.demucs_model = args.demucs_model or ["htdemucs", "htdemucs_ft", "demucs_unittest"]
    sets = {
        "demo": demo_tracks(args.seconds),
        "other timbres": other_timbres(args.seconds, args.variants),
    }
    sets = {name: tracks for name, tracks in sets.items() if tracks}
    results = []
    for label, separate in separators(args).items():
        for set_name, tracks in sets.items():
            medians, rtf = evaluate(tracks, separate)
            results.append(
                {
                    "backend": label,
                    "tracks": set_name,
                    "n": len(tracks),
                    "sdr_db": {k: round(v, 2) for k, v in medians.items()},
                    "mean_db": round(statistics.mean(medians.values()), 2),
                    "rtf": round(rtf, 3),
                }
            )
    _print_table(results, args)
    print(
        json.dumps(
            {
                "bench": "separation_quality",
                "seconds": args.seconds,
                "machine": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(),
                "results": results,
            }
        )
    )


def _print_table(results: list[dict], args: argparse.Namespace) -> None:
    print(f"SDR (dB, BSS Eval via fast_bss_eval, median over tracks), {args.seconds:g} s clips")
    print("| backend | tracks | drums | bass | other | vocals | mean | real-time factor |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in results:
        cells = " | ".join(f"{row['sdr_db'][name]:.2f}" for name in STEMS)
        rtf = "—" if row["backend"].startswith("baseline") else f"{row['rtf']:.3f}"
        print(
            f"| {row['backend']} | {row['tracks']} ({row['n']}) | {cells} | "
            f"{row['mean_db']:.2f} | {rtf} |"
        )


if __name__ == "__main__":
    main()
