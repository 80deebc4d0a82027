"""Run the whole product locally: Stripe sandbox, Celery worker and beat, web.

A supervisor (marketplace.demo.supervisor) restarts any child that dies,
with backoff, and says so; Ctrl-C stops them all.

Each part is a real process; the worker consumes both the `default` and `gpu`
queues on kombu's filesystem transport, so no server is needed. The console
shows a short progress, then the URL and the logins; each part's own output
goes to a file under var/log/.

Seed-time Stripe events are held by the sandbox until the web server answers,
then delivered (marketplace.demo.webhooks): none is dropped.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.exceptions import InconsistentMigrationHistory

from catalog.models import Recording
from core.queues import GPU, WORKER_QUEUES
from marketplace.demo import catalog_data
from marketplace.demo.progress import Progress
from marketplace.demo.supervisor import Supervisor
from marketplace.demo.webhooks import (
    sandbox_webhooks_hold,
    sandbox_webhooks_release,
    wait_for_http,
)


def _wait_for_port(host: str, port: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.2)
    return False


# What each demo login is for, in the words of the README's tour.
LOGIN_HINTS = {
    "fan@clearmix.demo": "fan with Premium + Remix add-on: remix, export, publish",
    "artist@clearmix.demo": "artist Nova Lane: consent, uploads, splits, payouts",
    "tidewater@clearmix.demo": "artist The Tidewater",
    "mira@clearmix.demo": "artist Mira",
    "songwriter@clearmix.demo": "songwriter June Okafor: publishing payouts",
    "auditor@clearmix.demo": "auditor: licensing audit and integrity checks",
}


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = "Start the Stripe sandbox, a Celery worker, Celery beat and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.DEMO_HOST)
        parser.add_argument("--port", type=int, default=settings.DEMO_PORT)
        parser.add_argument("--no-seed", action="store_true", help="Skip loading demo data.")

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        self.site = f"http://{host}:{port}"
        self.logs = settings.VAR_DIR / "log"
        self.logs.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
            "SITE_URL": self.site,
            "PYTHONUNBUFFERED": "1",
        }
        # Each child is restarted with backoff if it dies (say, the worker's
        # main process is killed): one crash must not stop the whole demo.
        self.supervisor = Supervisor(env=env, say=self._say)
        sandbox = settings.STRIPE_SANDBOX
        progress = Progress(total=6 if sandbox else 4, write=self._write)
        try:
            self._start(progress, host=host, port=port, seed=not options["no_seed"])
        except BaseException:
            self.supervisor.stop()
            raise
        self._welcome()
        self._run_until_stopped()

    def _start(self, progress: Progress, *, host: str, port: int, seed: bool) -> None:
        with progress.step("Preparing the database", usually="a moment; 20 s the first time"):
            self._migrate()
        if settings.STRIPE_SANDBOX:
            with progress.step("Starting the local Stripe sandbox", usually="2 s"):
                self._start_sandbox()
        with progress.step(
            "Loading the demo catalog and buying the demo fan's plans",
            usually="20-40 s the first time, a moment after",
        ) as note:
            note["result"] = self._seed(seed)
        with progress.step("Starting the Celery worker and beat", usually="1 s"):
            self._start_workers()
        with progress.step("Starting the web server", usually="10 s"):
            argv = [sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"]
            self._spawn("web", argv, "web.log")
            if not wait_for_http(f"{self.site}/healthz", timeout_s=60):
                raise CommandError(f"The web server did not answer; see {self._log('web.log')}.")
        if settings.STRIPE_SANDBOX:
            with progress.step(
                "Delivering the seed's Stripe events to the web server", usually="3 s"
            ) as note:
                note["result"] = self._deliver_held_webhooks()

    def _migrate(self) -> None:
        try:
            call_command("migrate", interactive=False, verbosity=0)
        except InconsistentMigrationHistory:
            # A demo database made before users moved into the accounts app.
            # It holds only demo data: set it aside and start a fresh one.
            database = settings.DATABASES["default"]
            if not database["ENGINE"].endswith("sqlite3"):
                raise
            old = Path(database["NAME"])
            connections.close_all()
            aside = old.with_name(f"{old.name}.before-accounts-{int(time.time())}")
            old.rename(aside)
            self._say(f"The old demo database was set aside as {_relative(aside)}.")
            call_command("migrate", interactive=False, verbosity=0)

    def _spawn(self, name: str, argv: list[str], log_name: str) -> None:
        self.supervisor.start(name, argv, log_path=self.logs / log_name)

    def _log(self, name: str) -> str:
        return _relative(self.logs / name)

    def _start_sandbox(self) -> None:
        api = urlsplit(settings.STRIPE_API_BASE)
        argv = [
            sys.executable,
            "-m",
            "stripe_sandbox",
            "--host",
            api.hostname or "127.0.0.1",
            "--port",
            str(api.port or 12111),
            "--webhook-url",
            f"{self.site}/stripe/webhook",
            "--webhook-secret",
            settings.STRIPE_WEBHOOK_SECRET,
            "--state-file",
            str(settings.VAR_DIR / "stripe-sandbox.json"),
        ]
        self._spawn("stripe sandbox", argv, "stripe-sandbox.log")
        if not _wait_for_port(api.hostname or "127.0.0.1", api.port or 12111):
            raise CommandError(
                f"The Stripe sandbox did not start; see {self._log('stripe-sandbox.log')}."
            )
        # Before any API call: seeding's events wait for the web server.
        sandbox_webhooks_hold(api_base=settings.STRIPE_API_BASE)

    def _seed(self, seed: bool) -> str:
        """Seed with the commands' own output in var/log/seed.log; returns a summary."""
        # Queueing stem jobs on the filesystem broker makes kombu warn that no
        # hostname was given, which is right for that broker: not news.
        logging.getLogger("kombu.connection").setLevel(logging.ERROR)
        with open(self.logs / "seed.log", "a", encoding="utf-8") as log:
            problems = io.StringIO()
            if settings.STRIPE_SANDBOX:
                try:
                    call_command("stripe_sync_catalog", verbosity=0, stdout=log, stderr=log)
                except Exception as exc:
                    problems.write(f"stripe_sync_catalog failed: {exc}\n")
            if seed:
                call_command("seed_demo", stdout=log, stderr=problems)
            try:
                # So the auditor's dashboard shows real results from the first minute.
                call_command("audit_checks", verbosity=0, stdout=log, stderr=log)
            except Exception as exc:
                problems.write(f"integrity checks: {exc}\n")
            log.write(problems.getvalue())
        if problems.getvalue():
            # On its own line: the progress line is still open.
            self.stderr.write("\n" + problems.getvalue().rstrip())
        tracks = Recording.objects.count()
        remixable = Recording.objects.filter(is_remixable=True).count()
        return f"{tracks} tracks, {remixable} remixable" if seed else "seeding skipped"

    def _start_workers(self) -> None:
        python = sys.executable
        queues = ",".join((*WORKER_QUEUES, GPU))  # in the order a worker takes from them
        worker = [python, "-m", "celery", "-A", "config", "worker", "-Q", queues]
        self._spawn(
            "celery worker", [*worker, "--concurrency", "2", "--loglevel", "INFO"], "worker.log"
        )
        beat = [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]
        schedule = ["--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
        self._spawn("celery beat", [*beat, *schedule], "beat.log")

    def _deliver_held_webhooks(self) -> str:
        report = sandbox_webhooks_release(api_base=settings.STRIPE_API_BASE)
        if not report.ok:
            # Not fatal: the reconcile sweep asks Stripe about what never arrived.
            self.stderr.write(
                f"\n{len(report.failed)} of {report.events} Stripe events were not accepted "
                f"by the web server; see {self._log('stripe-sandbox.log')} and "
                f"{self._log('web.log')}."
            )
        if not report.events:
            return "none waiting"
        return f"{report.events - len(report.failed)} of {report.events} delivered"

    def _welcome(self) -> None:
        self._write(self.style.SUCCESS(f"\nClearmix is running at {self.site}/") + "\n")
        self._write(
            f"Log in at {self.site}/accounts/login/ (password {catalog_data.DEMO_PASSWORD}) as:\n"
        )
        for user in catalog_data.USERS:
            hint = LOGIN_HINTS.get(user.email, ", ".join(user.roles))
            self._write(f"  {user.email:<26} {hint}\n")
        self._write(
            f"Logs: {_relative(self.logs)}/ (web, worker, beat, stripe-sandbox, seed). "
            "Press Ctrl-C to stop.\n"
        )

    def _run_until_stopped(self) -> None:
        stop_now = False

        def on_signal(signum, frame):
            nonlocal stop_now
            stop_now = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            while not stop_now:
                self.supervisor.poll()
                time.sleep(0.5)
        finally:
            self.supervisor.stop()

    def _write(self, text: str) -> None:
        self.stdout.write(text, ending="")
        self.stdout.flush()

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
