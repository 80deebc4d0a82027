"""Prove the stored remixability state equal to the rule, recomputed from the
consent ledger, splits and takedowns; optionally repair it.

Exit status 0 when every recording agrees, 1 otherwise (after --repair: 0
when the repair left nothing to fix).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Recording
from catalog.selectors import consent_state_mismatches, recording_remixability_state_mismatches
from catalog.services import recording_remixability_refresh, recording_search_refresh


class Command(BaseCommand):
    help = "Recompute every recording's remixability and compare it with the stored state."

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Re-derive the state of mismatched recordings."
        )
        parser.add_argument(
            "--search", action="store_true", help="With --repair: also rebuild all search text."
        )

    def handle(self, *args, **options):
        ledger = consent_state_mismatches()
        for problem in ledger[:20]:
            self.stderr.write(f"consent state: {problem}")
        mismatches = recording_remixability_state_mismatches()
        for mismatch in mismatches[:20]:
            self.stderr.write(
                f"recording {mismatch.recording_id}: stored {mismatch.stored}, rule {mismatch.rule}"
            )
        if options["repair"]:
            ids = [m.recording_id for m in mismatches]
            recording_remixability_refresh(recording_ids=ids)
            if options["search"]:
                recording_search_refresh(
                    recording_ids=Recording.objects.values_list("pk", flat=True)
                )
            mismatches = recording_remixability_state_mismatches()
        if ledger or mismatches:
            raise CommandError(
                f"Remixability state BROKEN: {len(ledger)} consent state rows disagree with the "
                f"ledger, {len(mismatches)} recordings disagree with the rule.",
                returncode=1,
            )
        count = Recording.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Remixability state verified: {count} recordings agree with the rule."
            )
        )
