"""Run the audit integrity checks now and store their results (as beat does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from marketplace.audit.checks import CHECKS, check_run


class Command(BaseCommand):
    help = "Run consent chain, ledger, Stripe and audit log checks; exit 1 if any fails."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help=f"any of: {', '.join(CHECKS)}")

    def handle(self, *args, names=None, **options):
        failed = []
        for name in names or list(CHECKS):
            run = check_run(name=name, triggered_by="manage.py")
            line = f"{name}: {run.status} — {run.summary}"
            (self.stdout.write if run.ok else self.stderr.write)(line)
            if not run.ok:
                failed.append(name)
        if failed:
            raise CommandError(f"checks failing: {', '.join(failed)}", returncode=1)
