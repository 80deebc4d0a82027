"""Fingerprint every recording whose audio has no fingerprint yet, so the ghost-track
guard compares uploads with the whole catalog (recordings stored before the guard existed,
or while fpcalc was missing)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog.fingerprint import FingerprintError
from catalog.models import Recording
from catalog.services.ghost_tracks import recording_fingerprint_make


class Command(BaseCommand):
    help = "Fingerprint recordings that have audio but no fingerprint."

    def handle(self, *args, **options):
        missing = Recording.objects.exclude(audio="").filter(fingerprint__isnull=True)
        made = skipped = 0
        for recording in missing.order_by("pk").iterator(chunk_size=200):
            try:
                if recording_fingerprint_make(recording=recording):
                    made += 1
                else:
                    skipped += 1
            except FingerprintError as error:
                raise CommandError(f"Recording {recording.pk}: {error}") from None
        self.stdout.write(
            f"Fingerprinted {made} recordings ({skipped} too short or without audio)."
        )
