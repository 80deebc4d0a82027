#!/usr/bin/env python
"""mypy (with django-stubs) against a baseline that may only shrink.

    scripts/typecheck.py            check: fail on any error not in the baseline
    scripts/typecheck.py --update   rewrite mypy-baseline.txt from today's errors

Errors are compared without line numbers (file, error code, message), so
moving code does not break the check. An error that is not in the baseline
fails the run; baseline entries that no longer occur are listed with a request
to shrink the baseline (`--update`), and the run fails, so a fixed error
cannot come back unnoticed. The strict modules (pyproject.toml,
[tool.mypy.overrides]) may never be in the baseline.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "mypy-baseline.txt"
# App code, bottom to top; packages that do not exist (yet) are skipped.
PACKAGES = [
    "core",
    "accounts",
    "config",
    "catalog",
    "remixing",
    "royalties",
    "marketplace",
    "stripe_sandbox",
]
STRICT_PREFIXES = ("remixing/engine/", "royalties/splits.py", "stripe_sandbox/", "core/")
# "path/to/file.py:12: error: Message  [code]" (columns off, the default).
ERROR = re.compile(
    r"^(?P<path>[^:]+\.pyi?):\d+: error: (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)


def mypy_errors() -> list[str]:
    """Today's errors, normalised to "path | code | message", sorted."""
    packages = [name for name in PACKAGES if (ROOT / name).is_dir()]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output", "--no-error-summary", *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1) or "error: INTERNAL ERROR" in result.stdout:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"mypy could not run (exit {result.returncode})")
    errors = []
    for line in result.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            errors.append(
                f"{match['path']} | {match['code'] or 'misc'} | {normalise(match['message'])}"
            )
    return sorted(errors)


def normalise(message: str) -> str:
    # Line numbers inside messages ("defined on line 12") move with the code.
    return re.sub(r"on line \d+", "on line N", message)


def read_baseline() -> list[str]:
    if not BASELINE.exists():
        return []
    lines = BASELINE.read_text().splitlines()
    return sorted(line for line in lines if line and not line.startswith("#"))


def write_baseline(errors: list[str]) -> None:
    header = [
        "# mypy errors tolerated today (scripts/typecheck.py): file | code | message.",
        "# It may only shrink: fix an error, then run `scripts/typecheck.py --update`.",
    ]
    BASELINE.write_text("\n".join([*header, *errors]) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline")
    args = parser.parse_args()
    errors = mypy_errors()
    strict = [error for error in errors if error.startswith(STRICT_PREFIXES)]
    if args.update:
        write_baseline([error for error in errors if error not in strict])
        print(f"{BASELINE.name}: {len(errors) - len(strict)} errors")
    if strict:
        print("Strict modules must type-check cleanly:\n  " + "\n  ".join(strict))
        return 1
    if args.update:
        return 0
    today, baseline = Counter(errors), Counter(read_baseline())
    new = sorted((today - baseline).elements())
    gone = sorted((baseline - today).elements())
    if new:
        print(f"{len(new)} new mypy error(s) (not in {BASELINE.name}):\n  " + "\n  ".join(new))
    if gone:
        print(
            f"{len(gone)} error(s) in {BASELINE.name} no longer occur: shrink it with"
            " `scripts/typecheck.py --update`:\n  " + "\n  ".join(gone)
        )
    if new or gone:
        return 1
    print(f"mypy: no new errors ({len(errors)} in the baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
