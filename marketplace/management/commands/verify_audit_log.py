"""Prove the staff audit log intact, or name the first broken entry.

Exit status 0 when intact, 1 when broken (like verify_consent_chain).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog.audit_log import staff_audit_verify
from catalog.models import StaffAuditEntry


class Command(BaseCommand):
    help = "Recompute every staff audit entry's hash and check the chain links."

    def handle(self, *args, **options):
        broken = staff_audit_verify()
        if broken is not None:
            where = f"entry #{broken.seq}" if broken.seq is not None else "the log"
            if broken.event_id is not None:
                where += f" (id {broken.event_id})"
            raise CommandError(
                f"Staff audit log BROKEN at {where}: {broken.problem}.", returncode=1
            )
        count = StaffAuditEntry.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Staff audit log intact: {count} entries verified."))
