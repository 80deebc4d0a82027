"""Pre-separate tracks in this process (no broker needed), with a progress bar.

python manage.py separate_tracks --all
python manage.py separate_tracks 12 15 --model htdemucs --device cuda
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F
from tqdm import tqdm

from catalog.models import Recording
from catalog.selectors import recording_remixability
from core.errors import DomainError
from remixing import job_runner
from remixing.models import StemSet
from remixing.services import stemset_for_recording


class Command(BaseCommand):
    help = "Separate the stems of recordings now (cached: done once per audio and model)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Recording ids.")
        parser.add_argument("--all", action="store_true", help="Every remixable recording.")
        parser.add_argument(
            "--model", default=None, help="Model (default: what SEPARATION_BACKEND selects)."
        )
        parser.add_argument("--device", choices=["cpu", "cuda", "auto"], default=None)

    def handle(self, *args, ids, all, model, device, **options):
        if not ids and not all:
            raise CommandError("Give recording ids, or --all.")
        if device:
            # The jobs read the device from settings; this process only.
            settings.DEMUCS_DEVICE = device
        qs = Recording.objects.order_by("pk")
        qs = qs if all else qs.filter(pk__in=ids)
        recordings = list(qs)
        missing = set(ids) - {r.pk for r in recordings}
        if missing:
            raise CommandError(f"No such recording(s): {', '.join(map(str, sorted(missing)))}")
        done = skipped = failed = 0
        bar = tqdm(recordings, unit="track", disable=options.get("verbosity", 1) == 0)
        for recording in bar:
            bar.set_description(recording.title[:30])
            if not recording_remixability(recording=recording).remixable:
                # No consent, no processing of the audio.
                skipped += 1
                continue
            try:
                stem_set = stemset_for_recording(recording=recording, model_name=model, start=False)
            except DomainError as error:
                self.stderr.write(f"{recording.pk}: {error.message}")
                skipped += 1
                continue
            if stem_set.status != StemSet.Status.READY:
                # One attempt, here and now: a failure ends the set failed (with
                # its detail) rather than queueing a retry on a broker.
                StemSet.objects.filter(pk=stem_set.pk).exclude(
                    status=StemSet.Status.RUNNING
                ).update(
                    status=StemSet.Status.PENDING,
                    error="",
                    error_detail="",
                    attempt_limit=F("attempts") + 1,
                    queued_at=None,
                )
                job_runner.stemset_execute(stem_set.pk)
                stem_set.refresh_from_db()
            if stem_set.status == StemSet.Status.READY:
                done += 1
            else:
                failed += 1
                self.stderr.write(
                    f"{recording.pk}: {stem_set.status} {stem_set.error_detail or stem_set.error}"
                )
        self.stdout.write(f"ready: {done}, skipped: {skipped}, failed: {failed}")
