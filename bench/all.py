"""Run every other benchmark under bench/ in its short mode, then summarise.

    python bench/all.py                   # every bench/*.py but this one
    python bench/all.py studio render     # only these

Each script runs as its own process with `--short` (`--small` for a script that only
knows that spelling), one after another so they do not slow each other down. A script
that needs PostgreSQL is skipped, with the reason, when DATABASE_URL is not a PostgreSQL
URL. Each script's last output line is its JSON summary; this prints a table of what
each reported (status, time, its ratio to its floor or stock baseline where it gives
one) and, last, one JSON line holding every script's summary.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# How a script says it cannot run without PostgreSQL.
NEEDS_POSTGRES = re.compile(r"needs a PostgreSQL|NEEDS_POSTGRES\s*=\s*True")


def discover(only: list[str]) -> list[Path]:
    scripts = sorted(p for p in BENCH.glob("*.py") if p.name not in ("all.py", "__init__.py"))
    if only:
        scripts = [p for p in scripts if p.stem in only]
    return scripts


def short_flag(source: str) -> list[str]:
    if "--short" in source:
        return ["--short"]
    if "--small" in source:
        return ["--small"]
    return []


def last_json(output: str) -> dict | None:
    for line in reversed(output.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def headline(summary: dict | None) -> str:
    """The figure worth a glance: the script's ratio to its floor or baseline."""
    if not summary:
        return ""
    if "ratio" in summary:
        return f"ratio {summary['ratio']}"
    ratios = [
        r["ratio"] for r in summary.get("results", []) if isinstance(r, dict) and "ratio" in r
    ]
    if ratios:
        return "ratios " + ", ".join(str(r) for r in ratios)
    speedups = [
        r["speedup_vs_stock_min"]
        for r in summary.get("results", [])
        if isinstance(r, dict) and "speedup_vs_stock_min" in r
    ]
    if speedups:
        return f"best speed-up vs stock {max(speedups)}"
    return ""


def run_one(script: Path, timeout: float, postgres: bool) -> dict:
    source = script.read_text()
    if NEEDS_POSTGRES.search(source) and not postgres:
        return {"bench": script.stem, "status": "skipped",
                "reason": "needs PostgreSQL: set DATABASE_URL=postgres://…"}  # fmt: skip
    argv = [sys.executable, str(script), *short_flag(source)]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
        )
    except subprocess.TimeoutExpired:
        return {"bench": script.stem, "status": "timeout", "wall_s": round(timeout, 1),
                "reason": f"ran past {timeout:.0f} s"}  # fmt: skip
    wall = round(time.perf_counter() - started, 1)
    summary = last_json(proc.stdout)
    row = {"bench": script.stem, "argv": argv[2:], "wall_s": wall, "exit": proc.returncode}
    if summary is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
        return {**row, "status": "failed", "reason": f"no JSON line; {tail[0][:200]}"}
    status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    return {**row, "status": status, "headline": headline(summary), "summary": summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="bench names (file stems); default: all")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per script")
    args = parser.parse_args()
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    rows = []
    for script in discover(args.only):
        print(f"running {script.name} …", flush=True)
        rows.append(run_one(script, args.timeout, postgres))
        row = rows[-1]
        print(f"  {row['status']}: {row.get('headline') or row.get('reason', '')}", flush=True)
    print()
    print(f"{'bench':<22}{'status':<10}{'wall s':>8}  figure")
    for row in rows:
        figure = row.get("headline") or row.get("reason", "")
        wall = f"{row['wall_s']:.1f}" if "wall_s" in row else "-"
        print(f"{row['bench']:<22}{row['status']:<10}{wall:>8}  {figure}")
    ok = all(row["status"] in ("ok", "skipped") for row in rows)
    print(json.dumps({"bench": "all", "ok": ok, "postgres": postgres, "runs": rows}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
