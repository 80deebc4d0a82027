"""Stems, remixes and their job history.

Fields, constraints and small properties only; writes live in
`remixing.services`, reads in `remixing.selectors`, background work in
`remixing.tasks`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

OFFICIAL_MODEL = "official"
# Kept in step with remixing.engine.backends (which the model layer does not import).
EMBEDDED_MODEL = "librosa-hpss-v1"
# How source_label names the runtime that ran a Demucs network (StemSet.runtime).
RUNTIME_NOTES = {
    "torch": " (run by PyTorch)",
    "onnxruntime": " (run by ONNX Runtime)",
    "onnxruntime+torch": " (run by ONNX Runtime; its shorter last segments by PyTorch)",
}
# Attempts a job gets before it fails for good (a staff retry grants as many again).
JOB_MAX_ATTEMPTS = 3


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


def recording_preview_path(instance: RecordingPreview, filename: str) -> str:
    return f"remixing/previews/{instance.recording_id}/{filename}"


def cover_take_ref_new() -> str:
    return secrets.token_hex(16)


def cover_take_path(instance: CoverTake, filename: str) -> str:
    return f"remixing/covers/{instance.remix_id}/take-{instance.ref}{_suffix(filename)}"


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

    class Backend(models.TextChoices):
        DEMUCS = "demucs", "Demucs"
        EMBEDDED = "embedded", "Embedded separator"
        OFFICIAL = "official", "Official stems"

    audio_sha256 = models.CharField(max_length=64)
    backend = models.CharField(
        max_length=20,
        choices=Backend.choices,
        default=Backend.DEMUCS,
        help_text="What made the stems: a Demucs model, the embedded separator, or the "
        "rights holder (official stems).",
    )
    model_name = models.CharField(
        max_length=100,
        help_text=f'The Demucs model, the embedded model ("{EMBEDDED_MODEL}"), or '
        f'"{OFFICIAL_MODEL}" for supplied stems.',
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
    error = models.TextField(blank=True, help_text="What the fan reads, in plain words.")
    error_detail = models.TextField(blank=True, help_text="The technical detail, for staff.")
    device = models.CharField(max_length=40, blank=True)
    runtime = models.CharField(
        max_length=20,
        blank=True,
        help_text='What ran the separation: "torch" (PyTorch), "onnxruntime" (ONNX Runtime '
        'running the exported Demucs network), "onnxruntime+torch" (some segments in each), '
        '"librosa" (embedded); blank for official stems and older sets.',
    )
    attempts = models.PositiveIntegerField(default=0)
    # The lease (see remixing.leases): who holds the running job and until
    # when; the heartbeat extends it, an expired one is taken over.
    lease_owner = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker.")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempt_limit = models.PositiveIntegerField(
        default=JOB_MAX_ATTEMPTS,
        help_text="No claim past this attempt number; raised by a staff retry.",
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was (or is due to be) queued."
    )
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
            models.CheckConstraint(
                name="stemset_backend_valid",
                condition=Q(backend__in=["demucs", "embedded", "official"]),
            ),
            models.CheckConstraint(
                name="stemset_running_has_lease",
                condition=~Q(status="running")
                | (Q(lease_expires_at__isnull=False) & ~Q(lease_owner="")),
            ),
            models.CheckConstraint(
                name="stemset_attempts_within_limit", condition=Q(attempts__lte=F("attempt_limit"))
            ),
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

    @property
    def source_label(self) -> str:
        """Who made these stems, in words (studio, remix page, file tags, audit)."""
        if self.backend == self.Backend.OFFICIAL:
            return "Official stems supplied by the rights holder"
        if self.backend == self.Backend.EMBEDDED:
            return (
                f"Separated by Clearmix's embedded separator ({self.model_name}: librosa "
                "harmonic-percussive and repetition masks; no neural network)"
            )
        return f"Separated by the Demucs {self.model_name} model{self.runtime_note}"

    @property
    def runtime_note(self) -> str:
        """Words naming the runtime that ran the Demucs network, e.g. (run by PyTorch)."""
        return RUNTIME_NOTES.get(self.runtime, "")


class Stem(models.Model):
    stem_set = models.ForeignKey(StemSet, on_delete=models.CASCADE, related_name="stems")
    name = models.CharField(max_length=40)
    lossless = models.FileField(
        upload_to=stem_lossless_path, max_length=255, help_text="FLAC, used for rendering."
    )
    preview = models.FileField(
        upload_to=stem_preview_path,
        max_length=255,
        help_text="Compressed and seekable (Ogg Opus; Ogg Vorbis on stem sets made before "
        "light streams), streamed to the browser studio.",
    )
    preview_mp3 = models.FileField(
        upload_to=stem_preview_path,
        max_length=255,
        blank=True,
        help_text="The same preview as MP3, for browsers that cannot decode Opus. Empty on "
        "stems made before light streams: `make_stem_previews` (or the studio) makes it.",
    )
    peaks = models.JSONField(
        default=list,
        blank=True,
        help_text="Waveform peaks (about 1000 columns) the studio draws before decoding.",
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

    @property
    def has_light_streams(self) -> bool:
        """Opus and MP3 previews and peaks exist (stems made before them lack them)."""
        return bool(self.preview_mp3) and bool(self.peaks)


class RecordingPreview(models.Model):
    """Lossy previews of a recording's master, made once per master audio.

    The master itself (lossless) never reaches a browser: the track page and
    the studio's A/B play these. `full` is for those who may open the studio
    (and the artists, staff); `excerpt`, a short faded section, for everyone.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    recording = models.OneToOneField(
        "catalog.Recording", on_delete=models.CASCADE, related_name="preview"
    )
    audio_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Of the master these previews were made from."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    full = models.FileField(upload_to=recording_preview_path, max_length=255, blank=True)
    excerpt = models.FileField(upload_to=recording_preview_path, max_length=255, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    excerpt_start_s = models.FloatField(null=True, blank=True)
    excerpt_s = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="recordingpreview_status_valid",
                condition=Q(status__in=["pending", "running", "ready", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Preview of recording {self.recording_id} ({self.status})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


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
    error = models.TextField(blank=True, help_text="What the fan reads, in plain words.")
    error_detail = models.TextField(blank=True, help_text="The technical detail, for staff.")
    attempts = models.PositiveIntegerField(default=0)
    # The lease (see remixing.leases): who holds the running job and until
    # when; the heartbeat extends it, an expired one is taken over.
    lease_owner = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker.")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempt_limit = models.PositiveIntegerField(
        default=JOB_MAX_ATTEMPTS,
        help_text="No claim past this attempt number; raised by a staff retry.",
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was (or is due to be) queued."
    )
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
    # "Remix this remix": the published remix whose recipe this one started
    # from. Credit only: the money follows the recording's split versions.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="forks",
        help_text="The published remix this one was started from, if any.",
    )
    allow_forks = models.BooleanField(
        default=False,
        help_text="The author lets other fans start a remix from this one's recipe.",
    )
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
            models.CheckConstraint(
                name="remix_rendering_has_lease",
                condition=~Q(status="rendering")
                | (Q(lease_expires_at__isnull=False) & ~Q(lease_owner="")),
            ),
            models.CheckConstraint(
                name="remix_attempts_within_limit", condition=Q(attempts__lte=F("attempt_limit"))
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
        REPUBLISHABLE = "republish", "Can be published again"

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


class RemixPlay(models.Model):
    """One listener's counted play of a published remix in one time window.

    The unique row is what makes a play count once: a second play in the same
    window finds the row and adds nothing. Listeners are a keyed hash (user id,
    or IP address for visitors), never the address itself.
    """

    remix = models.ForeignKey(Remix, on_delete=models.CASCADE, related_name="plays")
    listener = models.CharField(max_length=64)
    window_start = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["remix", "listener", "window_start"], name="remix_play_once_per_window"
            )
        ]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.remix_id} @ {self.window_start:%Y-%m-%d %H:%M}"


class StemSetStructure(models.Model):
    """Beats, bars and sections of a stem set's audio, found once (remixing.engine.structure)
    after the stems are ready; the studio's timeline and arrangement checks read it."""

    stem_set = models.OneToOneField(
        StemSet, primary_key=True, on_delete=models.CASCADE, related_name="structure"
    )
    version = models.PositiveSmallIntegerField()
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Structure of stem set {self.stem_set_id}"


class CoverTake(models.Model):
    """A vocal the fan recorded in the studio for a cover of one remix.

    The fan's own data: private (only the fan and staff may fetch it, see
    marketplace.media_access), and deleted with their account. The recipe's
    ``cover.take`` names one take of the remix by ``ref``."""

    ref = models.CharField(max_length=32, unique=True, default=cover_take_ref_new)
    remix = models.ForeignKey(Remix, on_delete=models.CASCADE, related_name="cover_takes")
    fan = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cover_takes"
    )
    audio = models.FileField(upload_to=cover_take_path, max_length=255)
    sha256 = models.CharField(max_length=64, help_text="Of the stored (decoded) audio.")
    duration_s = models.FloatField()
    lead_s = models.FloatField(default=0, help_text="Count-in before the music started.")
    latency_ms = models.FloatField(
        null=True, blank=True, help_text="Round-trip latency the studio measured, if it could."
    )
    tempo_ratio = models.FloatField(
        default=1.0, help_text="The remix's tempo the fan sang over (the cover's sung tempo)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["remix", "created_at"]), models.Index(fields=["fan"])]

    def __str__(self) -> str:
        return f"Cover take {self.ref} of remix {self.remix_id}"
