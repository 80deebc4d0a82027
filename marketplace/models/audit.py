"""Results of the scheduled integrity checks, shown on the audit dashboard."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class CheckRun(models.Model):
    """One run of one integrity check (consent chain, ledger, Stripe
    reconciliation, staff audit log). Written by `audit_check_run`; the
    latest row per name is what the dashboard and the staff banner show."""

    class Name(models.TextChoices):
        CONSENT_CHAIN = "consent_chain", "Consent chain (verify_consent_chain)"
        LEDGER = "ledger", "Ledger balance (verify_ledger)"
        STRIPE = "stripe", "Reconciliation with Stripe (reconcile_stripe)"
        AUDIT_LOG = "audit_log", "Staff audit log (verify_audit_log)"

    name = models.CharField(max_length=20, choices=Name.choices)
    ok = models.BooleanField(null=True, help_text="Empty while running, or when it crashed.")
    summary = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    triggered_by = models.CharField(max_length=120, blank=True, help_text='"beat" or an email.')
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["name", "-started_at"], name="mkt_checkrun_name_time")]
        constraints = [
            models.CheckConstraint(
                name="checkrun_name_valid",
                condition=Q(name__in=["consent_chain", "ledger", "stripe", "audit_log"]),
            ),
        ]

    def __str__(self) -> str:
        state = {True: "ok", False: "FAILED", None: "unfinished"}[self.ok]
        return f"{self.name} {state} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def status(self) -> str:
        if self.ok is None:
            return "error" if self.finished_at else "running"
        return "ok" if self.ok else "failed"
