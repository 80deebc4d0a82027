"""Check the ledger: every transaction balanced, every payable line paid or
owed, every party's totals equal to their lines. Exit 1 naming the first
discrepancy."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from royalties.audit import ledger_verify
from royalties.models import Entry, LedgerTransaction, SettlementLine


class Command(BaseCommand):
    help = "Verify the royalties ledger; exits non-zero on the first discrepancy."

    def handle(self, *args, **options):
        problems = ledger_verify()
        if problems:
            for p in problems[1:20]:
                self.stderr.write(f"  also: {p}")
            raise CommandError(f"ledger discrepancy: {problems[0]} ({len(problems)} in all)")
        self.stdout.write(
            self.style.SUCCESS(
                f"ledger OK: {LedgerTransaction.objects.count()} transactions, "
                f"{Entry.objects.count()} entries, {SettlementLine.objects.count()} lines"
            )
        )
