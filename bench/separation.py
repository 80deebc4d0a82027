"""Benchmark: Clearmix's batched Demucs path vs stock ``demucs.api.Separator``.

Same input, model and device for both, in one run. Prints a table and, last, one JSON line.
Real-time factor (RTF) = compute seconds per second of audio (lower is better).

    python bench/separation.py                       # htdemucs architecture, 20 s, 2 rounds
    python bench/separation.py --short               # 8 s, 1 round (bench/all.py)
    python bench/separation.py --model demucs_unittest --segment 7.8 --seconds 30

Paths, timed interleaved in one run on the same input and model: stock ``demucs.api``
(``apply_model`` under ``no_grad``); stock ``apply_model`` under ``torch.inference_mode``;
the project's batched path at each ``--batch-sizes``; and, when ``onnx`` and
``onnxruntime`` are installed, the product's ONNX Runtime runner (what a worker runs with
``SEPARATION_RUNTIME=onnx``/``auto`` on CPU: remixing.engine.onnx_runner exports the
network core, between the STFT and inverse STFT, into a fresh cache folder, then runs
every segment through ONNX Runtime). Each row shows wall and CPU seconds, its speed-up
over stock (min vs min) and its max |difference| from stock's stems; the goal is >= 1.3x
with a difference <= 1e-4. A line before the JSON gives the runner's ratio to stock, the
export time and the time to load it again from the cache.

``--model htdemucs_arch`` builds an HTDemucs with htdemucs' published hyper-parameters and
random weights: useless output, but realistic timing where the real weights cannot be
downloaded. ``demucs_unittest`` is tiny (0.6M params) and its default segment is 40 s, so
pass ``--segment 7.8`` to exercise multi-segment batching with it.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from demucs.htdemucs import HTDemucs

from remixing.engine import separation
from remixing.engine.synth import synth_track

SR = 44100


def make_input(seconds: float) -> np.ndarray:
    """A musical stereo mix of the requested length (stitched from synthesised songs)."""
    parts, have, seed = [], 0, 0
    while have < seconds * SR:
        parts.append(synth_track(seed=seed, bpm=96 + 8 * seed, key="A minor", duration_s=40)["mix"])
        have += parts[-1].shape[-1]
        seed += 1
    return np.concatenate(parts, axis=-1)[:, : int(seconds * SR)]


def build_separator(args: argparse.Namespace, batch_size: int) -> separation.Separator:
    config = separation.SeparatorConfig(
        model_name=args.model,
        device=args.device,
        segment=args.segment,
        overlap=args.overlap,
        batch_size=batch_size,
        cpu_batch_size=batch_size,
    )
    if args.model == "htdemucs_arch":
        torch.manual_seed(0)
        model = HTDemucs(
            sources=["drums", "bass", "other", "vocals"],
            dconv_mode=3,
            depth=4,
            t_layers=5,
            segment=Fraction(39, 5),
        ).eval()
        return separation.Separator(config, model=model)
    return separation.get_separator(config)


def product_onnx_separator(
    base: separation.Separator, model, size: int, folder: str
) -> tuple[separation.Separator, float, float]:
    """The product's ONNX Runtime runner (``SEPARATION_RUNTIME=onnx``:
    remixing.engine.onnx_runner through Separator), not a copy of it. Returns the
    separator, the seconds its first load took (export + check) and a reload from the
    cache (what every later worker process pays)."""
    config = replace(base.config, runtime="onnx", onnx_cache=Path(folder))
    start = time.perf_counter()
    first = separation.Separator(config, model=model)
    first._device = base.device
    first.onnx_cores()
    exported = time.perf_counter() - start
    start = time.perf_counter()
    sep = separation.Separator(config, model=model)
    sep._device = base.device
    sep.onnx_cores()
    cached = time.perf_counter() - start
    return sep, exported, cached


def stock_inference_mode(model, audio: np.ndarray, args) -> dict[str, np.ndarray]:
    """Stock ``apply_model`` (what demucs.api calls) under torch.inference_mode."""
    from demucs.apply import apply_model

    wav = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    ref = wav.mean(0)
    mean, std = ref.mean(), ref.std() + 1e-8
    with torch.inference_mode():
        out = apply_model(
            model, ((wav - mean) / std)[None], split=True, overlap=args.overlap,
            segment=args.segment, shifts=0, progress=False, num_workers=0,
        )[0]  # fmt: skip
    out = out * std + mean
    return {name: out[i].numpy() for i, name in enumerate(model.sources)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="htdemucs_arch")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--short", action="store_true", help="8 s of audio, 1 round")
    parser.add_argument("--segment", type=float, default=None)
    parser.add_argument("--overlap", type=float, default=0.25)
    parser.add_argument("--batch-sizes", default="1,4", help="batched-path sizes to time")
    parser.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime row")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (1 is steadier on a shared box)"
    )
    args = parser.parse_args()
    if args.short:
        args.seconds, args.repeat = 8.0, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)

    audio = make_input(args.seconds)
    seconds = audio.shape[-1] / SR
    sizes = [int(b) for b in args.batch_sizes.split(",") if b]
    base = build_separator(args, sizes[0])
    model = base.model  # load once, outside the timings
    sub = model.models[0] if hasattr(model, "models") else model
    seg_s = float(args.segment if args.segment is not None else sub.segment)
    seg_len = int(seg_s * sub.samplerate)
    chunks = len(range(0, audio.shape[-1], int((1 - args.overlap) * seg_len)))

    # Warm-up both paths on a short clip so one-off allocations are not timed.
    warm = audio[:, : min(audio.shape[-1], seg_len + SR)]
    base.separate(warm, SR)
    separation.separate_with_demucs_api(warm, SR, separator=base)

    # Paths are interleaved (A B C A B C ...) rather than timed in blocks, so background
    # load on a shared machine hits every path alike; the table reports mean and min.
    runners = [("stock demucs.api", 1, lambda: separation.separate_with_demucs_api(
        audio, SR, separator=base))]  # fmt: skip
    for size in sizes:
        sep = separation.Separator(
            replace(base.config, batch_size=size, cpu_batch_size=size), model=model
        )
        sep._device = base.device
        runners.append(("batched", size, lambda sep=sep: sep.separate(audio, SR)))
    runners.append(("stock inference_mode", 1, lambda: stock_inference_mode(model, audio, args)))
    export_s = cached_s = None
    runtime_note = None
    onnx_sep = None
    folder = tempfile.TemporaryDirectory()
    if not args.no_onnx:
        size = sizes[0]
        sep, export_s, cached_s = product_onnx_separator(base, model, size, folder.name)
        runtime_note = sep.runtime_note or None
        if sep.onnx_cores():
            sep.separate(warm, SR)
            runners.append(("product onnxruntime", size, lambda sep=sep: sep.separate(audio, SR)))
        onnx_sep = sep
    times: list[list[float]] = [[] for _ in runners]
    cpu_times: list[list[float]] = [[] for _ in runners]
    outputs: list[dict[str, np.ndarray]] = [{} for _ in runners]
    for _ in range(args.repeat):
        for index, (_path, _size, fn) in enumerate(runners):
            start, cpu_start = time.perf_counter(), time.process_time()
            outputs[index] = fn()
            times[index].append(time.perf_counter() - start)
            # CPU seconds are steadier than wall time when the box is shared.
            cpu_times[index].append(time.process_time() - cpu_start)
    stock_out = outputs[0]
    rows = []
    max_diff = 0.0
    for index, (path, size, _fn) in enumerate(runners):
        row = {"path": path, "batch": size, "times": times[index], "cpu": cpu_times[index]}
        if index:
            diff = max(float(np.max(np.abs(outputs[index][k] - stock_out[k]))) for k in stock_out)
            row["max_abs_diff"] = diff
            max_diff = max(max_diff, diff)
        rows.append(row)
    stock_times = times[0]

    cpu = platform.processor() or platform.machine()
    print(
        f"model={args.model} device={base.device} audio={seconds:.1f}s segment={seg_s:.2f}s "
        f"chunks={chunks} threads={torch.get_num_threads()} cpu={cpu}"
    )
    print(
        f"{'path':<22}{'batch':>6}{'mean s':>9}{'min s':>9}{'RTF':>8}{'RTF min':>8}"
        f"{'cpu s':>9}{'speedup':>9}{'max|diff|':>11}"
    )
    stock_min = min(stock_times)
    results = []
    for row in rows:
        mean, best = statistics.mean(row["times"]), min(row["times"])
        cpu_mean = statistics.mean(row["cpu"])
        speedup = stock_min / best  # min-vs-min: the least disturbed run of each path
        diff = row.get("max_abs_diff")
        print(
            f"{row['path']:<22}{row['batch']:>6}{mean:>9.2f}{best:>9.2f}{mean / seconds:>8.3f}"
            f"{best / seconds:>8.3f}{cpu_mean:>9.2f}{speedup:>9.2f}"
            f"{'' if diff is None else f'{diff:.1e}':>11}"
        )
        results.append(
            {"path": row["path"], "batch": row["batch"], "mean_s": round(mean, 3),
             "min_s": round(best, 3), "rtf_mean": round(mean / seconds, 4),
             "rtf_min": round(best / seconds, 4), "cpu_s_mean": round(cpu_mean, 3),
             "speedup_vs_stock_min": round(speedup, 3), "max_abs_diff": diff}
        )  # fmt: skip
    onnx_row = next((r for r in results if r["path"] == "product onnxruntime"), None)
    onnx_ratio = onnx_row["speedup_vs_stock_min"] if onnx_row else None
    if onnx_row:
        mean_ratio = statistics.mean(stock_times) / onnx_row["mean_s"]
        print(
            f"product ONNX Runtime runner vs stock PyTorch: {onnx_ratio:.2f}x faster (min vs "
            f"min; {mean_ratio:.2f}x mean vs mean), max|diff| {onnx_row['max_abs_diff']:.1e}; "
            f"segments run by {onnx_sep.last_runtime}; first load (export + check) "
            f"{export_s:.1f} s, later loads from the cache {cached_s:.1f} s"
        )
    elif not args.no_onnx:
        print(f"product ONNX Runtime runner not used: {runtime_note}")
    summary = {
        "bench": "separation",
        "model": args.model,
        "device": str(base.device),
        "audio_s": round(seconds, 2),
        "segment_s": round(seg_s, 3),
        "chunks": chunks,
        "repeat": args.repeat,
        "threads": torch.get_num_threads(),
        "max_abs_diff": max_diff,
        "onnx_speedup_vs_stock": onnx_ratio,
        "onnx_runtime": onnx_sep.last_runtime if onnx_row and onnx_sep else None,
        "onnx_export_s": None if export_s is None else round(export_s, 1),
        "onnx_cached_load_s": None if cached_s is None else round(cached_s, 2),
        "onnx_not_used": runtime_note,
        "outputs_agree": max_diff < 1e-4,
        "results": results,
    }
    print(json.dumps(summary))
    folder.cleanup()
    return 0 if max_diff < 1e-4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
