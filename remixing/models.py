"""Stems, remixes and their job history.

Fields, constraints and small properties only; writes live in
`remixing.services`, reads in `remixing.selectors`, background work in
`remixing.tasks`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

OFFICIAL_MODEL = "official"


def share_slug_new() -> str:
    # 12 url-safe bytes -> 16 chars, ~96 bits: unguessable, so an unpublished
    # remix's share link cannot be enumerated.
    return secrets.token_urlsafe(12)


def stem_lossless_path(instance: Stem, filename: str) -> str:
    # Deterministic names (per stem set and stem) let a redelivered task
    # overwrite instead of leaving orphans behind.
    return f"remixing/stems/{instance.stem_set_id}/{instance.name}{_suffix(filename)}"


def stem_preview_path(instance: Stem, filename: str) -> str:
    return f"remixing/stems/{instance.stem_set_id}/{instance.name}.preview{_suffix(filename)}"


def remix_output_path(instance: Remix, filename: str) -> str:
    return f"remixing/remixes/{instance.pk}/{filename}"


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower()[:6] if dot >= 0 else ""


class StemSet(models.Model):
    """The stems of one audio file, made by one model (or supplied officially).

    Identified by (audio sha256, model): separate once, remix many times.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        # Stopped because the recording stopped being remixable mid-job.
        CANCELLED = "cancelled", "Cancelled"

    audio_sha256 = models.CharField(max_length=64)
    model_name = models.CharField(
        max_length=100, help_text=f'The Demucs model, or "{OFFICIAL_MODEL}" for supplied stems.'
    )
    recording = models.ForeignKey(
        "catalog.Recording",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stem_sets",
        help_text="The recording this audio was first seen on (the cache key is the hash).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    device = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["audio_sha256", "model_name"], name="stemset_unique_audio_model"
            ),
            models.CheckConstraint(
                name="stemset_status_valid",
                condition=Q(status__in=["pending", "running", "ready", "failed", "cancelled"]),
            ),
            models.CheckConstraint(name="stemset_progress_range", condition=Q(progress__lte=100)),
            models.CheckConstraint(name="stemset_model_not_blank", condition=~Q(model_name="")),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Stems {self.audio_sha256[:8]} by {self.model_name} ({self.status})"

    @property
    def is_official(self) -> bool:
        return self.model_name == OFFICIAL_MODEL

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


class Stem(models.Model):
    stem_set = models.ForeignKey(StemSet, on_delete=models.CASCADE, related_name="stems")
    name = models.CharField(max_length=40)
    lossless = models.FileField(
        upload_to=stem_lossless_path, max_length=255, help_text="FLAC, used for rendering."
    )
    preview = models.FileField(
        upload_to=stem_preview_path,
        max_length=255,
        help_text="Compressed and seekable (Ogg), streamed to the browser studio.",
    )
    duration_s = models.FloatField()
    samplerate = models.PositiveIntegerField(default=44100)
    sha256 = models.CharField(max_length=64, help_text="Of the lossless file.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stem_set", "name"]
        constraints = [
            models.UniqueConstraint(fields=["stem_set", "name"], name="stem_unique_name"),
            models.CheckConstraint(name="stem_duration_positive", condition=Q(duration_s__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.name} of {self.stem_set}"


class Remix(models.Model):
    """A fan's remix of one recording: a recipe, a render job and its outputs."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        SEPARATING = "separating", "Separating stems"
        RENDERING = "rendering", "Rendering"
        READY = "ready", "Ready"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # Jobs in these states may still be picked up or are running.
    ACTIVE_STATUSES = ("queued", "separating", "rendering")

    fan = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="remixes"
    )
    recording = models.ForeignKey(
        "catalog.Recording", on_delete=models.PROTECT, related_name="remixes"
    )
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    recipe = models.JSONField(default=dict, blank=True)
    recipe_version = models.PositiveIntegerField(
        default=1, help_text="Bumped on each saved change (draft autosave)."
    )
    preset = models.CharField(max_length=60, blank=True)
    stem_set = models.ForeignKey(
        StemSet, null=True, blank=True, on_delete=models.PROTECT, related_name="remixes"
    )
    # What this remix relied on, for the audit: the consent events that made
    # the track remixable and the split versions its revenue follows.
    consent_events = models.ManyToManyField(
        "catalog.ConsentEvent", blank=True, related_name="remixes"
    )
    terms = models.JSONField(default=dict, blank=True, help_text="Terms in force at creation.")
    master_split_version = models.ForeignKey(
        "catalog.SplitVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="master_remixes",
    )
    publishing_split_version = models.ForeignKey(
        "catalog.SplitVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="publishing_remixes",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    paid_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when marketplace starts the paid render."
    )
    rendered_recipe = models.JSONField(null=True, blank=True, help_text="The recipe rendered.")
    output_mp3 = models.FileField(upload_to=remix_output_path, max_length=255, blank=True)
    output_ogg = models.FileField(upload_to=remix_output_path, max_length=255, blank=True)
    output_wav = models.FileField(upload_to=remix_output_path, max_length=255, blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True, help_text="Of the MP3.")
    duration_s = models.FloatField(null=True, blank=True)
    integrated_lufs = models.FloatField(null=True, blank=True)
    true_peak_dbtp = models.FloatField(null=True, blank=True)
    unpublished_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    play_count = models.PositiveBigIntegerField(default=0)
    share_slug = models.CharField(max_length=32, unique=True, default=share_slug_new)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="remix_status_valid",
                condition=Q(
                    status__in=[
                        "draft",
                        "queued",
                        "separating",
                        "rendering",
                        "ready",
                        "published",
                        "failed",
                        "cancelled",
                    ]
                ),
            ),
            models.CheckConstraint(name="remix_progress_range", condition=Q(progress__lte=100)),
            models.CheckConstraint(
                name="remix_published_has_time",
                condition=~Q(status="published") | Q(published_at__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["recording", "status"]),
            models.Index(fields=["fan", "-created_at"]),
            models.Index(fields=["status", "-published_at"]),
        ]

    def __str__(self) -> str:
        return self.title or f"Remix #{self.pk}"

    @property
    def is_active_job(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class RemixEvent(models.Model):
    """One step of a remix's story: a status change, who made it and why.

    Append-only by convention (services only insert); auditors read it.
    """

    class Actor(models.TextChoices):
        FAN = "fan", "Fan"
        SYSTEM = "system", "System"
        WORKER = "worker", "Worker"
        CATALOG = "catalog", "Catalog (consent or takedown)"
        STAFF = "staff", "Staff"

    remix = models.ForeignKey(Remix, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor_kind = models.CharField(max_length=10, choices=Actor.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(blank=True)
    consent_event = models.ForeignKey(
        "catalog.ConsentEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The consent or takedown event that caused this step, if any.",
    )
    attempt = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["remix", "created_at"])]

    def __str__(self) -> str:
        return f"{self.remix_id}: {self.from_status or '—'} → {self.to_status}"


class RemixNotice(models.Model):
    """Something the fan must be told on their next visit (job cancelled,
    remix unpublished because the artist revoked consent)."""

    class Kind(models.TextChoices):
        CANCELLED = "cancelled", "Job cancelled"
        UNPUBLISHED = "unpublished", "Remix unpublished"
        FAILED = "failed", "Render failed"
        READY = "ready", "Remix ready"

    fan = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remix_notices"
    )
    remix = models.ForeignKey(Remix, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["fan", "read_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.remix}"
