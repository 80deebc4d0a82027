"""The studio's JavaScript modules' unit tests (tests/static/js/*.test.mjs), run
with node's built-in test runner as part of the suite."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_js_unit_tests_pass():
    tests = sorted(str(path) for path in (ROOT / "tests" / "static" / "js").glob("*.test.mjs"))
    assert len(tests) >= 2  # studio-state and studio-recipe at least
    result = subprocess.run(
        ["node", "--test", *tests],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
