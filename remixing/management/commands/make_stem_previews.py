"""Make the studio's light streams (Opus and MP3 previews, waveform peaks) of
stem sets made before they existed, in this process (no broker needed).

python manage.py make_stem_previews --all
python manage.py make_stem_previews 3 8

Stems that have them are skipped. Without this, the first studio open of such
a set queues the same work for a worker and plays the old Vorbis previews.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from remixing.models import StemSet
from remixing.previews import stemset_light_streams_make


class Command(BaseCommand):
    help = "Make stem sets' light studio streams now (once per stem)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Stem set ids.")
        parser.add_argument("--all", action="store_true", help="Every ready stem set.")

    def handle(self, *args, ids, all, **options):
        if not ids and not all:
            raise CommandError("Give stem set ids, or --all.")
        stem_sets = StemSet.objects.filter(status=StemSet.Status.READY).order_by("pk")
        if ids:
            stem_sets = stem_sets.filter(pk__in=ids)
        failed = 0
        for stem_set in stem_sets:
            counts = stemset_light_streams_make(stem_set_id=stem_set.pk)
            failed += counts["failed"]
            self.stdout.write(
                f"stem set {stem_set.pk}: {counts['made']} made, {counts['ready']} already "
                f"there, {counts['failed']} failed"
            )
        if failed:
            raise CommandError(f"{failed} stem preview(s) failed; see the worker log.")
