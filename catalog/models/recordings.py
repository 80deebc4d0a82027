"""Parties, works and their writers, recordings, their artists and official stems."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..identifiers import format_iswc

BPS_WHOLE = 10_000


def _generated_name(folder: str, filename: str) -> str:
    # Never trust an uploaded name: keep only a lower-case extension.
    suffix = PurePath(filename).suffix.lower()[:6]
    return f"catalog/{folder}/{uuid.uuid4().hex}{suffix}"


def recording_audio_path(instance: Recording, filename: str) -> str:
    return _generated_name("recordings", filename)


def stem_audio_path(instance: OfficialStem, filename: str) -> str:
    return _generated_name("stems", filename)


class Party(models.Model):
    """A rights holder. May exist before its person joins; money waits for them."""

    class Kind(models.TextChoices):
        ARTIST = "artist", "Artist"
        SONGWRITER = "songwriter", "Songwriter"
        LABEL = "label", "Label"
        PUBLISHER = "publisher", "Publisher"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    ipi = models.CharField("IPI name number", max_length=11, unique=True, null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="catalog_parties",
        help_text="The account that claims this party.",
    )
    claim_requested_at = models.DateTimeField(null=True, blank=True)
    claim_verified = models.BooleanField(default=False)
    claim_verified_at = models.DateTimeField(null=True, blank=True)
    claim_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "parties"
        constraints = [
            models.CheckConstraint(
                name="party_kind_valid",
                condition=Q(kind__in=["artist", "songwriter", "label", "publisher"]),
            ),
            models.CheckConstraint(
                name="party_verified_claim_has_user",
                condition=Q(claim_verified=False) | Q(user__isnull=False),
            ),
            models.CheckConstraint(name="party_name_not_blank", condition=~Q(name="")),
        ]
        indexes = [models.Index(fields=["kind", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display().lower()})"

    @property
    def is_claimed(self) -> bool:
        return self.user_id is not None and self.claim_verified


class Work(models.Model):
    """A composition. Its publishing splits belong to its songwriters and publishers."""

    title = models.CharField(max_length=300)
    iswc = models.CharField("ISWC", max_length=11, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.iswc_display})" if self.iswc else self.title

    @property
    def iswc_display(self) -> str:
        return format_iswc(self.iswc) if self.iswc else ""


class WorkWriter(models.Model):
    """Who wrote a work and how: the credit, apart from who is paid."""

    class Role(models.TextChoices):
        COMPOSER = "composer", "Composer"
        LYRICIST = "lyricist", "Lyricist"
        COMPOSER_LYRICIST = "composer_lyricist", "Composer and lyricist"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="writers")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="writer_credits")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COMPOSER_LYRICIST)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["work", "party"], name="workwriter_unique_party"),
        ]

    def __str__(self) -> str:
        return f"{self.party.name} ({self.get_role_display().lower()}) on {self.work.title}"


def duration_display(duration_ms: int | None) -> str:
    """m:ss, as lists and pages show a track's length ("" when unknown)."""
    if not duration_ms:
        return ""
    seconds = round(duration_ms / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


class Recording(models.Model):
    """A track: one master recording, embodying one work."""

    title = models.CharField(max_length=300)
    isrc = models.CharField("ISRC", max_length=12, unique=True, null=True, blank=True)
    work = models.ForeignKey(
        Work, null=True, blank=True, on_delete=models.PROTECT, related_name="recordings"
    )
    genre = models.CharField(max_length=60, blank=True, db_index=True)
    mood = models.JSONField(default=list, blank=True, help_text="A list of mood tags.")
    tempo_bpm = models.PositiveSmallIntegerField("tempo (BPM)", null=True, blank=True)
    key = models.CharField(max_length=16, blank=True, help_text='Like "A minor".')
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    audio = models.FileField(upload_to=recording_audio_path, blank=True, max_length=255)
    audio_sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="catalog_recordings",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    parties = models.ManyToManyField(Party, through="RecordingArtist", related_name="recordings")

    # Derived listing state, written only by `recording_remixability_refresh`
    # in the transaction of each write that can change it, so lists filter on
    # an index instead of re-running the rule over the whole catalog.
    # `recording_remixability` stays the rule; doors keep calling it.
    is_remixable = models.BooleanField(default=False, editable=False)
    remixability_reasons = models.CharField(
        max_length=200, blank=True, editable=False, help_text="Reason codes, comma-separated."
    )
    remixability_due_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a scheduled split version takes effect and the state must be refreshed.",
    )
    search_text = models.TextField(
        blank=True,
        editable=False,
        help_text="Lower-case title, artists, work, songwriters, ISRC and ISWC, for search.",
    )

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                name="recording_tempo_range",
                condition=Q(tempo_bpm__isnull=True) | Q(tempo_bpm__gte=20, tempo_bpm__lte=400),
            ),
            models.CheckConstraint(
                name="recording_duration_positive",
                condition=Q(duration_ms__isnull=True) | Q(duration_ms__gt=0),
            ),
            models.CheckConstraint(name="recording_title_not_blank", condition=~Q(title="")),
        ]
        indexes = [
            models.Index(fields=["tempo_bpm"]),
            models.Index(fields=["key"]),
            models.Index(fields=["title", "id"], name="recording_title_id"),
            models.Index(fields=["is_remixable", "title", "id"], name="recording_remixable_title"),
            models.Index(fields=["is_remixable", "-created_at"], name="recording_remixable_new"),
            models.Index(fields=["created_at"], name="recording_created_at"),
            models.Index(
                fields=["remixability_due_at"],
                condition=Q(remixability_due_at__isnull=False),
                name="recording_remixability_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.isrc})" if self.isrc else self.title

    @property
    def duration_display(self) -> str:
        return duration_display(self.duration_ms)


class RecordingArtist(models.Model):
    class Role(models.TextChoices):
        MAIN = "main", "Main artist"
        FEATURED = "featured", "Featured artist"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="artists")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="recording_credits")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MAIN)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["role", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "party"], name="recordingartist_unique_party"
            ),
            models.CheckConstraint(
                name="recordingartist_role_valid", condition=Q(role__in=["main", "featured"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party.name} ({self.role}) on {self.recording.title}"


class OfficialStem(models.Model):
    """A stem supplied by the rights holder, used instead of separating the mix."""

    class Name(models.TextChoices):
        DRUMS = "drums", "Drums"
        BASS = "bass", "Bass"
        OTHER = "other", "Other"
        VOCALS = "vocals", "Vocals"
        PIANO = "piano", "Piano"
        GUITAR = "guitar", "Guitar"
        SYNTH = "synth", "Synth"
        STRINGS = "strings", "Strings"
        BACKING_VOCALS = "backing_vocals", "Backing vocals"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="stems")
    name = models.CharField(max_length=20, choices=Name.choices)
    file = models.FileField(upload_to=stem_audio_path, max_length=255)
    sha256 = models.CharField(max_length=64)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recording", "name"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "name"], name="officialstem_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.get_name_display()} stem of {self.recording.title}"
