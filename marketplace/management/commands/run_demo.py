"""Run the whole product locally: Stripe sandbox, Celery worker and beat, web.

Each part is a real process; the worker consumes both the `default` and `gpu`
queues on kombu's filesystem transport, so no server is needed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from marketplace.demo.catalog_data import DEMO_PASSWORD


def _wait_for_port(host: str, port: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.2)
    return False


class Command(BaseCommand):
    help = "Start the Stripe sandbox, a Celery worker, Celery beat and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("CLEARMIX_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("CLEARMIX_PORT", 8000)))
        parser.add_argument("--no-seed", action="store_true", help="Skip loading demo data.")

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        site = f"http://{host}:{port}"
        python = sys.executable
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "marketplace.settings.local"
            ),
            "SITE_URL": site,
            "PYTHONUNBUFFERED": "1",
        }
        processes: list[tuple[str, subprocess.Popen]] = []

        def start(name: str, argv: list[str]) -> None:
            self.stdout.write(f"==> starting {name}: {' '.join(argv)}")
            processes.append((name, subprocess.Popen(argv, env=env)))

        call_command("migrate", interactive=False, verbosity=0)
        if settings.STRIPE_SANDBOX:
            api = urlsplit(settings.STRIPE_API_BASE)
            start(
                "stripe sandbox",
                [
                    python,
                    "-m",
                    "stripe_sandbox",
                    "--host",
                    api.hostname or "127.0.0.1",
                    "--port",
                    str(api.port or 12111),
                    "--webhook-url",
                    f"{site}/stripe/webhook",
                    "--webhook-secret",
                    settings.STRIPE_WEBHOOK_SECRET,
                    "--state-file",
                    str(settings.VAR_DIR / "stripe-sandbox.json"),
                ],
            )
            if not _wait_for_port(api.hostname or "127.0.0.1", api.port or 12111):
                self._stop(processes)
                raise CommandError("The Stripe sandbox did not start; see its output above.")
        try:
            call_command("stripe_sync_catalog", verbosity=0)
        except Exception as exc:
            self.stderr.write(f"stripe_sync_catalog failed: {exc}")
        if not options["no_seed"]:
            call_command("seed_demo")
        try:
            # So the auditor's dashboard shows real results from the first minute.
            call_command("audit_checks", verbosity=0)
        except Exception as exc:
            self.stderr.write(f"integrity checks: {exc}")

        start(
            "celery worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "marketplace",
                "worker",
                "-Q",
                "default,gpu",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
        )
        start(
            "celery beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "marketplace",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        )
        start("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"])
        _wait_for_port(host, port)
        self.stdout.write(self.style.SUCCESS(f"\nClearmix is running at {site}/"))
        self.stdout.write(
            f"Log in at {site}/accounts/login/ as fan@clearmix.demo (Premium), "
            "artist@clearmix.demo, songwriter@clearmix.demo or auditor@clearmix.demo; "
            f"password {DEMO_PASSWORD}."
        )
        self.stdout.write("Press Ctrl-C to stop.\n")

        stop_now = False

        def on_signal(signum, frame):
            nonlocal stop_now
            stop_now = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            while not stop_now:
                for name, proc in processes:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping.")
                        stop_now = True
                time.sleep(0.5)
        finally:
            self._stop(processes)

    def _stop(self, processes) -> None:
        for _, proc in reversed(processes):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
