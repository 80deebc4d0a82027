"""The staff audit trail (a hash chain, like the consent ledger)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class StaffAuditEntry(models.Model):
    """One append-only entry of the staff audit log: who did what to which
    record, when and why. Hash-chained like the consent ledger; the database
    refuses UPDATE and DELETE on PostgreSQL (see migration 0003). Written by
    `catalog.audit_log.staff_audit_append`, inside the staff action's own
    transaction. Lives in catalog (the bottom app) so that catalog's own staff
    services (takedowns, claim verification) can write it too."""

    seq = models.PositiveBigIntegerField(unique=True)
    action = models.CharField(max_length=60, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_audit_entries"
    )
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=120, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "staff audit entries"
        constraints = [
            models.CheckConstraint(name="staffauditentry_seq_positive", condition=Q(seq__gte=1)),
            models.CheckConstraint(
                name="staffauditentry_action_not_blank", condition=~Q(action="")
            ),
        ]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["actor", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id}"


class StaffAuditHead(models.Model):
    """The staff audit log's single head row (like ConsentChainHead)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(name="staffaudithead_single", condition=Q(id=1))]

    def __str__(self) -> str:
        return f"Staff audit log head at #{self.seq}"
