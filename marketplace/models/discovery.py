"""Discovery: who follows whom, who liked which remix, weekly plays, notices.

Every count on a page is a COUNT over these rows, and every row is unique
(a constraint, not a check in Python), so concurrent clicks can never count
twice. Remixes are filtered by their published state when read, so an
unpublished remix leaves every list, feed and profile at once without any
of these rows being touched.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Follow(models.Model):
    """A fan follows an artist (a catalog party) or a remixer (an account)."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    artist = models.ForeignKey(
        "catalog.Party", null=True, blank=True, on_delete=models.CASCADE, related_name="followers"
    )
    remixer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followers",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="follow_one_target",
                condition=(Q(artist__isnull=False) & Q(remixer__isnull=True))
                | (Q(artist__isnull=True) & Q(remixer__isnull=False)),
            ),
            models.CheckConstraint(
                name="follow_not_self", condition=~Q(remixer=models.F("follower"))
            ),
            models.UniqueConstraint(
                fields=["follower", "artist"],
                condition=Q(artist__isnull=False),
                name="follow_artist_once",
            ),
            models.UniqueConstraint(
                fields=["follower", "remixer"],
                condition=Q(remixer__isnull=False),
                name="follow_remixer_once",
            ),
        ]
        indexes = [
            models.Index(fields=["artist"], name="follow_artist_idx"),
            models.Index(fields=["remixer"], name="follow_remixer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.artist_id or self.remixer_id}"


class RemixLike(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remix_likes"
    )
    remix = models.ForeignKey("remixing.Remix", on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "remix"], name="remix_like_once"),
        ]
        indexes = [models.Index(fields=["remix"], name="remix_like_remix_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.remix_id}"


class RemixWeeklyPlay(models.Model):
    """A listener's play of a remix, once per calendar week (Monday, UTC):
    "popular this week" counts these rows. The listener is the keyed hash
    remixing already makes (never an address)."""

    remix = models.ForeignKey(
        "remixing.Remix", on_delete=models.CASCADE, related_name="weekly_plays"
    )
    listener = models.CharField(max_length=64)
    week_start = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["remix", "listener", "week_start"], name="remix_weekly_play_once"
            ),
        ]
        indexes = [models.Index(fields=["week_start", "remix"], name="weekly_play_week_idx")]

    def __str__(self) -> str:
        return f"{self.remix_id} week of {self.week_start}"


class Notice(models.Model):
    """An in-site notification: a followed artist opted a track in, or a
    followed remixer published a remix."""

    class Kind(models.TextChoices):
        NEW_TRACK = "new_track", "New track to remix"
        NEW_REMIX = "new_remix", "New remix"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    artist = models.ForeignKey(
        "catalog.Party", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    recording = models.ForeignKey(
        "catalog.Recording", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    remix = models.ForeignKey(
        "remixing.Remix", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="notice_kind_valid", condition=Q(kind__in=["new_track", "new_remix"])
            ),
            # One notice per thing per person, however often a signal repeats.
            models.UniqueConstraint(
                fields=["recipient", "kind", "recording"],
                condition=Q(kind="new_track"),
                name="notice_new_track_once",
            ),
            models.UniqueConstraint(
                fields=["recipient", "kind", "remix"],
                condition=Q(kind="new_remix"),
                name="notice_new_remix_once",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notice_recipient_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}"
