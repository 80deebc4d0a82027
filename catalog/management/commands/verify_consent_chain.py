"""Prove the consent ledger intact, or name the first broken event.

Exit status 0 when intact, 1 when broken, so CI and auditors can script it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog.models import ConsentEvent
from catalog.selectors import consent_chain_verify


class Command(BaseCommand):
    help = "Recompute every consent event's hash and check the chain links."

    def handle(self, *args, **options):
        broken = consent_chain_verify()
        if broken is not None:
            where = f"event #{broken.seq}" if broken.seq is not None else "the chain"
            if broken.event_id is not None:
                where += f" (id {broken.event_id})"
            raise CommandError(f"Consent chain BROKEN at {where}: {broken.problem}.", returncode=1)
        count = ConsentEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Consent chain intact: {count} events verified."))
