"""Make the lossy previews of recordings in this process (no broker needed).

python manage.py make_previews --all
python manage.py make_previews 12 15

Done once per master audio: recordings whose previews exist are skipped.
Players never get the master, so a recording without previews plays nothing
until this (or the worker, queued on upload and on first page view) runs.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Recording
from remixing.previews import recording_preview_make


class Command(BaseCommand):
    help = "Make recordings' lossy previews now (once per master audio)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Recording ids.")
        parser.add_argument("--all", action="store_true", help="Every recording with audio.")

    def handle(self, *args, ids, all, **options):
        if not ids and not all:
            raise CommandError("Give recording ids, or --all.")
        recordings = Recording.objects.exclude(audio="").order_by("pk")
        if ids:
            recordings = recordings.filter(pk__in=ids)
        failed = 0
        for recording in recordings:
            outcome = recording_preview_make(recording_id=recording.pk)
            failed += outcome == "failed"
            self.stdout.write(f"{recording.pk} {recording.title}: {outcome}")
        if failed:
            raise CommandError(f"{failed} preview(s) failed; see the recordings' preview rows.")
