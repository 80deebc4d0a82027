"""``python -m stripe_sandbox`` starts, serves, and persists state on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from stripe_sandbox.testing import http

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_and_persists(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stripe_sandbox",
            "--port",
            "0",
            "--state-file",
            str(state),
            "--webhook-url",
            "http://127.0.0.1:9/hook",
            "--webhook-secret",
            "whsec_cli",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        deadline = time.monotonic() + 10
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            found = re.search(r"listening on (http://\S+)", line)
            url = found.group(1) if found else None
        assert url, "server did not start"
        assert http("GET", f"{url}/_sandbox/health").json()["ok"] is True
        created = http(
            "POST",
            f"{url}/v1/customers",
            data=b"email=cli%40example.com",
            headers={
                "Authorization": "Bearer sk_test_cli",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert created.status == 200
        customer_id = created.json()["id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
    assert customer_id in json.loads(state.read_text())["collections"]["customers"]
