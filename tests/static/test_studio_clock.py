"""The studio's clock text, run in Node (the module the browser loads)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

MODULE = Path(__file__).resolve().parents[2] / "static" / "js" / "studio-clock.js"
CASES = {-0.01: "0:00", -61.0: "0:00", 0: "0:00", 59.99: "0:59", 61.5: "1:01", 3600: "60:00"}


def test_clock_never_shows_negative_time():
    # Found: "-1:-1" for a moment when a track first plays.
    script = (
        f"import {{ formatClock }} from {json.dumps(MODULE.as_uri())};"
        f"const cases = {json.dumps(list(CASES))};"
        "console.log(JSON.stringify([...cases.map(formatClock), formatClock(NaN),"
        " formatClock(undefined)]));"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert json.loads(out) == [*CASES.values(), "0:00", "0:00"]
