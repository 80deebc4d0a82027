"""Audio fingerprints of recordings and the ghost-track flags raised from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .recordings import Recording, RecordingArtist


class RecordingFingerprint(models.Model):
    """A recording's acoustic fingerprint (Chromaprint raw frames, little-endian uint32).

    Made when the recording's audio is stored; compared with every upload by the ghost-track
    guard, through the inverted index in FingerprintKey."""

    recording = models.OneToOneField(
        Recording, primary_key=True, on_delete=models.CASCADE, related_name="fingerprint"
    )
    algorithm = models.PositiveSmallIntegerField(default=2)
    frame_count = models.PositiveIntegerField()
    frames = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Fingerprint of recording {self.recording_id} ({self.frame_count} frames)"


class FingerprintKey(models.Model):
    """Inverted index of fingerprint sub-hashes: which recording has which sub-hash where.

    The (key, recording, position) index answers a lookup from the index alone."""

    key = models.IntegerField()
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["key", "recording", "position"], name="fingerprintkey_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.recording_id}:{self.position}"


class GhostTrackFlag(models.Model):
    """An upload refused because its audio matches a recording held by other parties.

    Kept for staff with the evidence; staff allow it (a legitimate re-release: the uploader
    may then upload it) or confirm the refusal. Each decision is in the staff audit log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for staff"
        ALLOWED = "allowed", "Allowed as a legitimate re-release"
        REFUSED = "refused", "Refusal confirmed"

    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ghost_track_flags"
    )
    claimed_title = models.CharField(max_length=300)
    claimed_artists = models.CharField(max_length=500)
    matched_recording = models.ForeignKey(
        Recording, on_delete=models.CASCADE, related_name="ghost_track_flags"
    )
    coverage = models.FloatField(help_text="Share of the upload's fingerprint that matches.")
    bit_error_rate = models.FloatField()
    offset_s = models.FloatField(help_text="Where the upload starts in the matched recording.")
    audio_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ghost_track_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["uploader", "matched_recording", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="ghosttrackflag_decided_has_who",
                condition=Q(status="pending", decided_at__isnull=True)
                | Q(decided_at__isnull=False, decided_by__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"“{self.claimed_title}” matches recording {self.matched_recording_id}"

    @property
    def matched_artists(self) -> str:
        """Main artists of the matched recording (prefetch matched_recording__artists__party)."""
        names = [
            credit.party.name
            for credit in self.matched_recording.artists.all()
            if credit.role == RecordingArtist.Role.MAIN
        ]
        return " & ".join(names)

    @property
    def evidence(self) -> str:
        return (
            f"matches “{self.matched_recording.title}” by {self.matched_artists}, "
            f"{self.coverage:.0%} of the fingerprint"
        )
