"""Install and list Demucs weights in DEMUCS_MODEL_REPO. Never downloads anything.

python manage.py demucs_weights install --from /media/usb/demucs/955717e8-8726e21a.th
python manage.py demucs_weights install --from /media/usb/demucs/      # a whole folder
python manage.py demucs_weights status [--verify]

Files are named as Demucs publishes them, ``<signature>-<sha256 prefix>.th``; each one's
SHA-256 is checked against its name before anything is copied.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from remixing.audio import separation_availability
from remixing.engine.demucs_weights import WeightsError, check_repo, install, installed_models


class Command(BaseCommand):
    help = "Install Demucs weights from a local file or folder (checksums verified), or list them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("install", help="Verify and copy weights into DEMUCS_MODEL_REPO.")
        add.add_argument("--from", dest="source", required=True, type=Path)
        add.add_argument("--to", dest="repo", type=Path, default=None, help=_repo_help())
        show = sub.add_parser("status", help="What is installed, and which backend runs.")
        show.add_argument("--verify", action="store_true", help="Re-hash every file.")
        show.add_argument("--to", dest="repo", type=Path, default=None, help=_repo_help())

    def handle(self, *args, action: str, repo: Path | None, **options):
        repo = repo or _configured_repo()
        if action == "install":
            self._install(options["source"], repo)
        else:
            self._status(repo, verify=options["verify"])

    def _install(self, source: Path, repo: Path) -> None:
        try:
            report = install(source, repo)
        except WeightsError as error:
            raise CommandError(str(error)) from None
        for name in report.installed:
            self.stdout.write(f"installed {name}")
        for name in report.unchanged:
            self.stdout.write(f"already installed {name}")
        models = ", ".join(report.bags) or "none yet (a model list .yaml may be missing)"
        self.stdout.write(self.style.SUCCESS(f"{repo}: complete models: {models}"))

    def _status(self, repo: Path, *, verify: bool) -> None:
        self.stdout.write(f"DEMUCS_MODEL_REPO: {repo}")
        statuses = installed_models(repo)
        if not statuses:
            self.stdout.write("  no Demucs weights installed")
        for status in statuses:
            state = "ready" if status.available else f"missing {', '.join(status.missing)}"
            self.stdout.write(f"  {status.name}: {state} ({', '.join(status.signatures)})")
        bad = 0
        if verify and repo.is_dir():
            for name, problem in check_repo(repo):
                bad += problem is not None
                self.stdout.write(f"  {name}: {problem or 'checksum ok'}")
        selected = separation_availability()["selected"]
        self.stdout.write(
            f"separation: {selected['backend']} {selected['model']} ({selected['reason']})"
        )
        if bad:
            raise CommandError(f"{bad} weights file(s) failed verification")


def _configured_repo() -> Path:
    value = settings.DEMUCS_MODEL_REPO
    if not value:
        raise CommandError("Set DEMUCS_MODEL_REPO (or pass --to) to say where weights live.")
    return Path(value)


def _repo_help() -> str:
    return "Model folder (default: DEMUCS_MODEL_REPO)."
