"""A quiet demo start (issue 18, item 9): a short progress on the console,
and the Stripe events made while seeding reach the web server, none dropped.

A full `run_demo` start (migrate, seed, four processes) takes about a minute
and shares var/ with a developer's running demo, so these tests drive its
parts: the progress printer, the sandbox's hold and release around a web
server that is not listening yet, and the real seed's events through the
real webhook endpoint.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

import stripe_sandbox
from marketplace.demo import catalog_data
from marketplace.demo.progress import Progress
from marketplace.demo.supervisor import Supervisor
from marketplace.demo.webhooks import (
    sandbox_webhooks_hold,
    sandbox_webhooks_release,
    wait_for_http,
)
from marketplace.management.commands import run_demo
from marketplace.management.commands.run_demo import Command as RunDemo
from marketplace.models import WebhookEvent
from stripe_sandbox.testing import WebhookReceiver, hook, http


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_progress_is_one_line_per_step_with_how_long_it_usually_takes():
    out: list[str] = []
    progress = Progress(total=2, write=out.append)
    with progress.step("Preparing the database", usually="2 s"):
        pass
    with pytest.raises(RuntimeError), progress.step("Starting the web server", usually="3 s"):
        raise RuntimeError("port taken")
    lines = "".join(out).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[1/2] Preparing the database (usually 2 s)… done in ")
    assert lines[1] == "[2/2] Starting the web server (usually 3 s)… failed."


def test_the_console_before_the_url_is_short(capsys):
    """Everything run_demo prints before the URL: its steps, then the welcome."""
    command = RunDemo()
    command.site, command.logs = "http://127.0.0.1:8000", Path("var/log").resolve()
    progress = Progress(total=6, write=command._write)
    for step in range(6):
        with progress.step(f"Step {step}", usually="1 s") as note:
            note["result"] = "ok"
    command._welcome()
    lines = capsys.readouterr().out.splitlines()
    url_line = next(i for i, line in enumerate(lines) if "Clearmix is running at" in line)
    assert url_line < 25
    assert len(lines) < 25
    for user in catalog_data.USERS:
        assert any(user.email in line for line in lines)
    assert any("var/log/" in line for line in lines)


def test_held_events_wait_for_a_server_that_is_not_up_yet_and_then_all_arrive():
    port = _free_port()
    sandbox = stripe_sandbox.start(
        port=0,
        webhook_url=f"http://127.0.0.1:{port}/webhook",
        webhook_secret="whsec_demo_start",
        retry_base_delay=0.02,
        max_attempts=2,
    )
    receiver = None
    try:
        sandbox_webhooks_hold(api_base=sandbox.url)
        auth = {"Authorization": "Bearer sk_test_demo_start"}
        for n in range(3):
            created = http(
                "POST", f"{sandbox.url}/v1/customers", data=f"name=c{n}".encode(), headers=auth
            )
            assert created.status == 200, created.text
        time.sleep(0.3)
        # Nothing was attempted against the closed port: nothing to drop.
        assert hook(sandbox.url, "deliveries")["data"] == []
        receiver = WebhookReceiver(port=port)
        assert wait_for_http(receiver.url, timeout_s=5)
        report = sandbox_webhooks_release(api_base=sandbox.url, timeout_s=10)
        assert report.ok and report.events == 3
        received = [event["data"]["object"]["name"] for event in receiver.events()]
        assert received == ["c0", "c1", "c2"]  # in the order they happened
        attempts = hook(sandbox.url, "deliveries")["data"]
        assert all(200 <= a["status"] < 300 for a in attempts) and len(attempts) == 3
    finally:
        if receiver is not None:
            receiver.stop()
        sandbox.stop()


@pytest.mark.django_db(transaction=True)
def test_seed_time_events_reach_the_webhook_endpoint_none_lost(stripe_live):
    """The real seed (fan's checkout, Connect onboarding) with deliveries held,
    then released: every event is stored by the real endpoint."""
    # The session's sandbox holds other tests' events and deliveries: start
    # from an empty one (and point it at this live server again).
    stripe_live.api("POST", "/_sandbox/reset", {})
    stripe_live.delivery(enabled=True)
    sandbox_webhooks_hold(api_base=stripe_live.url)
    try:
        call_command("stripe_sync_catalog", verbosity=0)
        call_command("seed_demo", stdout=io.StringIO())
        # Held, not attempted: the seed's transaction has committed before any delivery.
        assert hook(stripe_live.url, "webhooks")["holding"]
    finally:
        report = sandbox_webhooks_release(api_base=stripe_live.url, timeout_s=60)
    assert report.events > 0 and report.ok, report
    assert WebhookEvent.objects.count() >= report.events
    stored = set(WebhookEvent.objects.values_list("stripe_event_id", flat=True))
    released_attempts = hook(stripe_live.url, "deliveries")["data"]
    assert {a["event"] for a in released_attempts if a["succeeded"]} <= stored


@pytest.mark.django_db(transaction=True)
def test_run_demo_prints_a_short_progress_then_the_url(
    stripe_sandbox, monkeypatch, capfd, settings, tmp_path
):
    """The real start sequence (migrate, sandbox hold, seed through the
    sandbox, release), with the child processes not spawned: what reaches the
    console before the URL is the progress and nothing else."""
    settings.VAR_DIR = tmp_path
    # A fresh sandbox: the start's integrity checks reconcile every transfer
    # it holds, and other tests leave theirs in the session's sandbox.
    stripe_sandbox.api("POST", "/_sandbox/reset", {})
    started: list[tuple[str, Path | None]] = []
    monkeypatch.setattr(
        Supervisor,
        "start",
        lambda self, name, argv, log_path=None: started.append((name, log_path)),
    )
    monkeypatch.setattr(run_demo, "_wait_for_port", lambda *args, **kwargs: True)
    monkeypatch.setattr(run_demo, "wait_for_http", lambda *args, **kwargs: True)
    monkeypatch.setattr(RunDemo, "_run_until_stopped", lambda self: None)
    try:
        call_command("run_demo", "--port", "18999")
    finally:
        hook(stripe_sandbox.url, "webhooks/release", {"order": "original"})
    captured = capfd.readouterr()
    lines = (captured.out + captured.err).splitlines()
    url_line = next(i for i, line in enumerate(lines) if "Clearmix is running at" in line)
    assert url_line < 25, lines
    assert [line[:5] for line in lines[:6]] == [f"[{n}/6]" for n in range(1, 7)], lines
    assert all("done in" in line for line in lines[:6]), lines
    assert not captured.err, captured.err
    assert [name for name, _ in started] == [
        "stripe sandbox",
        "celery worker",
        "celery beat",
        "web",
    ]
    assert all(path.parent == tmp_path / "log" for _, path in started)
    assert "created" in (tmp_path / "log" / "seed.log").read_text()


def _fake_checkout(tmp_path: Path, pip_exit: int) -> Path:
    """install.sh in a scratch checkout whose .venv python is a stand-in for
    pip: it prints pip's usual warnings (and fails when told to)."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    (root / ".venv" / "bin").mkdir(parents=True)
    repo = Path(__file__).resolve().parents[2]
    (root / "scripts" / "install.sh").write_text((repo / "scripts" / "install.sh").read_text())
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    fake = root / ".venv" / "bin" / "python"
    fake.write_text(
        "#!/bin/sh\n"
        "echo 'WARNING: Running pip as the root user can result in broken permissions' >&2\n"
        "echo 'Collecting torch' \n"
        f"exit {pip_exit}\n"
    )
    fake.chmod(0o755)
    return root


@pytest.mark.skipif(
    not (shutil.which("ffprobe") and Path("/usr/bin/chromium").exists()),
    reason="install.sh would install system packages first",
)
@pytest.mark.parametrize("pip_exit", [0, 1])
def test_install_keeps_pip_chatter_in_a_log_and_shows_it_on_failure(tmp_path, pip_exit):
    root = _fake_checkout(tmp_path, pip_exit)
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(root / "scripts" / "install.sh")], env=env, capture_output=True, text=True
    )
    console = (done.stdout + done.stderr).splitlines()
    log = (root / "var" / "log" / "install.log").read_text()
    assert "Running pip as the root user" in log
    if pip_exit == 0:
        assert done.returncode == 0
        assert len(console) == 1 and console[0].startswith("Installing Python packages"), console
    else:
        assert done.returncode == 1
        assert any("Running pip as the root user" in line for line in console)  # the why
        assert any("var/log/install.log" in line for line in console)
