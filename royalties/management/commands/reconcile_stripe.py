"""Compare the ledger's transfers and reversals with Stripe's, both ways."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from royalties.audit import stripe_reconcile


class Command(BaseCommand):
    help = "Reconcile royalties transfers and reversals with Stripe (via the SDK)."

    def handle(self, *args, **options):
        problems = stripe_reconcile()
        if problems:
            for p in problems[1:50]:
                self.stderr.write(f"  also: {p}")
            raise CommandError(f"Stripe mismatch: {problems[0]} ({len(problems)} in all)")
        self.stdout.write(self.style.SUCCESS("Stripe and the ledger agree on every transfer."))
