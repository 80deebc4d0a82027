"""Stripe webhook events, stored once by Stripe's event id."""

from __future__ import annotations

from django.db import models


class WebhookEvent(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (no handler)"
        FAILED = "failed", "Failed (Stripe will retry)"

    DONE = frozenset({Status.PROCESSED, Status.IGNORED})

    stripe_event_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=128, db_index=True)
    api_version = models.CharField(max_length=64, blank=True)
    livemode = models.BooleanField(default=False)
    stripe_created = models.DateTimeField(null=True, blank=True)
    object_id = models.CharField(max_length=128, blank=True, db_index=True)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    handlers = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id} ({self.status})"
