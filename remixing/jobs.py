"""What the worker tasks do, with the Celery wrapping kept out (see tasks.py).

Every job follows the same shape, so a redelivered or duplicated message is
harmless:

1. claim: lock the row, compare-and-set its status to running and bump
   `attempts`; the attempt number is the claim token. A fresh claim by
   another worker (heartbeat newer than `stale_seconds()`) is left alone.
2. work: on local scratch files only; progress is written (throttled) with
   `UPDATE ... WHERE attempts = <mine> AND status = running`, which is also
   how a job notices it was cancelled or superseded, and stops.
3. finish: lock again, check the token, re-check remixability, move files
   to their deterministic names (atomic renames) and mark ready in one
   transaction. Nothing reaches storage before this step, so a failed job
   leaves no partial output.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import OfficialStem, Recording
from catalog.selectors import recording_credits, recording_remixability
from remixing import audio
from remixing.models import Remix, RemixEvent, RemixNotice, Stem, StemSet
from remixing.services.remixes import remix_event_record
from remixing.services.stems import stemset_for_recording, stemset_request
from remixing.storage import delete_quietly, local_copy, put, work_dir

logger = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_S = 0.5


class JobCancelled(Exception):
    """The job's remix or stem set was cancelled while it ran."""


class JobSuperseded(Exception):
    """Another attempt claimed the job; this one must not write anything."""


class JobFailed(Exception):
    """A permanent failure; the message is shown to the fan."""


def stale_seconds() -> float:
    # A running claim whose heartbeat is older than this is presumed dead
    # (its worker was killed) and may be taken over. It must be shorter
    # than the broker's redelivery delay (Redis visibility timeout).
    value = os.environ.get("REMIXING_JOB_STALE_SECONDS")
    if value:
        return float(value)
    return float(getattr(settings, "REMIXING_JOB_STALE_SECONDS", 120))


def _is_fresh(updated_at) -> bool:
    return updated_at is not None and timezone.now() - updated_at < timedelta(
        seconds=stale_seconds()
    )


class Progress:
    """Throttled progress writer that doubles as heartbeat and stop check."""

    def __init__(self, *, model, pk: int, attempt: int, running_status: str, start: int, end: int):
        self.model, self.pk, self.attempt = model, pk, attempt
        self.running_status = running_status
        self.start, self.end = start, end
        self._last_write = 0.0
        self._last_stage = None

    def __call__(self, fraction: float, stage: str = "") -> None:
        now = time.monotonic()
        if stage == self._last_stage and now - self._last_write < PROGRESS_MIN_INTERVAL_S:
            return
        self._last_write, self._last_stage = now, stage
        fraction = min(1.0, max(0.0, float(fraction)))
        percent = int(self.start + (self.end - self.start) * fraction)
        fields = {"progress": percent, "updated_at": timezone.now()}
        if stage:
            fields["stage"] = stage[:200]
        self.write(**fields)

    def write(self, **fields) -> None:
        fields.setdefault("updated_at", timezone.now())
        updated = self.model.objects.filter(
            pk=self.pk, attempts=self.attempt, status=self.running_status
        ).update(**fields)
        if not updated:
            self.raise_why()

    def check(self) -> None:
        """Stage boundary: stop if cancelled or superseded."""
        self.write()

    def raise_why(self) -> None:
        row = self.model.objects.filter(pk=self.pk).values("status", "attempts").first()
        if row is None or row["status"] == "cancelled":
            raise JobCancelled
        raise JobSuperseded


# --- Separation and official stems -------------------------------------------------


def _stemset_claim(stem_set_id: int, *, official: bool) -> tuple[StemSet, int] | None:
    with transaction.atomic():
        stem_set = (
            StemSet.objects.select_for_update(of=("self",))
            .select_related("recording")
            .filter(pk=stem_set_id)
        ).first()
        if stem_set is None:
            return None
        if stem_set.status in (StemSet.Status.READY, StemSet.Status.CANCELLED):
            return None
        if stem_set.status == StemSet.Status.FAILED:
            return None  # only stemset_request puts a failed set back in the queue
        if stem_set.status == StemSet.Status.RUNNING and _is_fresh(stem_set.updated_at):
            logger.info("stem set %s is being worked on elsewhere; skipping", stem_set_id)
            return None
        recording = stem_set.recording
        if recording is None or not recording_remixability(recording=recording).remixable:
            _stemset_end(
                stem_set,
                StemSet.Status.CANCELLED,
                "The recording was removed or can no longer be remixed.",
            )
            return None
        stem_set.status = StemSet.Status.RUNNING
        stem_set.attempts += 1
        stem_set.progress = 0
        stem_set.stage = "Starting"
        stem_set.error = ""
        stem_set.started_at = timezone.now()
        stem_set.finished_at = None
        stem_set.save()
        return stem_set, stem_set.attempts


def _stemset_end(stem_set: StemSet, status: str, error: str) -> None:
    """Mark a set failed or cancelled, and tell remixes waiting on it."""
    stem_set.status = status
    stem_set.error = error[:2000]
    stem_set.stage = "Failed" if status == StemSet.Status.FAILED else "Cancelled"
    stem_set.finished_at = timezone.now()
    stem_set.save()
    from remixing.services.jobs import remix_cancel

    for remix in Remix.objects.filter(stem_set=stem_set, status=Remix.Status.SEPARATING):
        if status == StemSet.Status.CANCELLED:
            remix_cancel(remix=remix, reason=error, actor_kind=RemixEvent.Actor.WORKER)
        else:
            _remix_fail(remix, f"The stems could not be made: {error}")


def _stemset_fail_by_id(stem_set_id: int, attempt: int | None, status: str, error: str) -> None:
    with transaction.atomic():
        qs = StemSet.objects.select_for_update().filter(pk=stem_set_id)
        if attempt is not None:
            qs = qs.filter(attempts=attempt)
        stem_set = qs.filter(status__in=[StemSet.Status.RUNNING, StemSet.Status.PENDING]).first()
        if stem_set is not None:
            _stemset_end(stem_set, status, error)


def _write_stem_files(
    stem_set: StemSet, stems: dict, samplerate: int, scratch: Path, progress: Progress
) -> list[dict]:
    out = []
    total = max(1, len(stems))
    for index, (name, data) in enumerate(sorted(stems.items())):
        progress(index / total, f"Encoding {name}")
        lossless = scratch / f"{name}{audio.lossless_suffix(data)}"
        preview = scratch / f"{name}.preview.ogg"
        info = audio.write_stem(data, samplerate, lossless=lossless, preview=preview)
        out.append({"name": name, "lossless": lossless, "preview": preview, **info})
    return out


def _stemset_finish(stem_set_id: int, attempt: int, files: list[dict], device: str) -> str:
    with transaction.atomic():
        stem_set = (
            StemSet.objects.select_for_update(of=("self",))
            .select_related("recording")
            .filter(pk=stem_set_id)
            .first()
        )
        if stem_set is None or stem_set.status == StemSet.Status.CANCELLED:
            return "cancelled"
        if stem_set.attempts != attempt or stem_set.status != StemSet.Status.RUNNING:
            return "superseded"
        recording = stem_set.recording
        if recording is None or not recording_remixability(recording=recording).remixable:
            _stemset_end(
                stem_set,
                StemSet.Status.CANCELLED,
                "The recording was removed or can no longer be remixed.",
            )
            return "cancelled"
        for item in files:
            stem = Stem(stem_set=stem_set, name=item["name"])
            lossless_name = stem.lossless.field.generate_filename(stem, item["lossless"].name)
            preview_name = stem.preview.field.generate_filename(stem, item["preview"].name)
            lossless_name = put(lossless_name, item["lossless"])
            preview_name = put(preview_name, item["preview"])
            Stem.objects.update_or_create(
                stem_set=stem_set,
                name=item["name"],
                defaults={
                    "lossless": lossless_name,
                    "preview": preview_name,
                    "duration_s": item["duration_s"],
                    "samplerate": item["samplerate"],
                    "sha256": item["sha256"],
                },
            )
        stem_set.stems.exclude(name__in=[item["name"] for item in files]).delete()
        stem_set.status = StemSet.Status.READY
        stem_set.progress = 100
        stem_set.stage = "Ready"
        stem_set.device = device
        stem_set.finished_at = timezone.now()
        stem_set.save()
        # Renders that were waiting for these stems can go now.
        from remixing import tasks

        for remix_id in Remix.objects.filter(
            stem_set=stem_set, status=Remix.Status.SEPARATING
        ).values_list("pk", flat=True):
            tasks.render_run.delay_on_commit(remix_id)
    return "ready"


def stemset_execute(stem_set_id: int, *, on_release: Callable[[], None] | None = None) -> str:
    """Make the stems of one stem set (separation or official import).

    Returns an outcome word; raises transient errors (OSError, database
    hiccups) for the task to retry. Permanent errors end the set `failed`.
    """
    row = StemSet.objects.filter(pk=stem_set_id).values("model_name").first()
    if row is None:
        return "missing"
    official = row["model_name"] == "official"
    claim = _stemset_claim(stem_set_id, official=official)
    if claim is None:
        return "skipped"
    stem_set, attempt = claim
    progress = Progress(
        model=StemSet,
        pk=stem_set.pk,
        attempt=attempt,
        running_status=StemSet.Status.RUNNING,
        start=0,
        end=90,
    )
    try:
        with work_dir("stems") as scratch:
            scratch = Path(scratch)
            if official:
                stems, samplerate, device = _load_official(stem_set.recording, progress)
            else:
                stems, samplerate, device = _separate(stem_set, progress)
            progress.check()
            files = _write_stem_files(stem_set, stems, samplerate, scratch, progress)
            progress.check()
            return _stemset_finish(stem_set.pk, attempt, files, device)
    except JobCancelled:
        return "cancelled"
    except JobSuperseded:
        return "superseded"
    except (audio.AudioError, JobFailed) as error:
        _stemset_fail_by_id(stem_set.pk, attempt, StemSet.Status.FAILED, str(error))
        return "failed"


def _load_official(recording: Recording, progress: Progress):
    stems = {}
    samplerate = 44100
    official = list(OfficialStem.objects.filter(recording=recording).order_by("name"))
    for index, stem in enumerate(official):
        progress(index / max(1, len(official)), f"Reading official {stem.name} stem")
        with local_copy(stem.file) as path:
            data, samplerate = audio.load(path, samplerate=samplerate)
        stems[stem.name] = data
    if not stems:
        raise JobFailed("The official stems were removed.")
    return stems, samplerate, "official"


def _separate(stem_set: StemSet, progress: Progress):
    recording = stem_set.recording
    if not recording.audio:
        raise JobFailed("The recording has no audio file.")
    with local_copy(recording.audio) as path:
        progress(0.0, f"Loading the {stem_set.model_name} model")
        return audio.separate(path, model_name=stem_set.model_name, progress=progress)


# --- Render --------------------------------------------------------------------------


def _remix_fail(remix: Remix, message: str, *, attempt: int | None = None) -> None:
    previous = remix.status
    remix.status = Remix.Status.FAILED
    remix.error = message[:2000]
    remix.stage = "Failed"
    remix.save(update_fields=["status", "error", "stage", "updated_at"])
    remix_event_record(
        remix=remix,
        from_status=previous,
        to_status=Remix.Status.FAILED,
        actor_kind=RemixEvent.Actor.WORKER,
        reason=message[:2000],
    )
    RemixNotice.objects.create(
        fan_id=remix.fan_id,
        remix=remix,
        kind=RemixNotice.Kind.FAILED,
        message=f"Your remix “{remix.title}” could not be rendered: {message}",
    )


def remix_fail_by_id(remix_id: int, message: str, *, attempt: int | None = None) -> bool:
    with transaction.atomic():
        qs = Remix.objects.select_for_update().filter(pk=remix_id, status__in=Remix.ACTIVE_STATUSES)
        if attempt is not None:
            qs = qs.filter(attempts=attempt)
        remix = qs.first()
        if remix is None:
            return False
        _remix_fail(remix, message)
        return True


def _remix_claim(remix_id: int) -> tuple[Remix, int] | str:
    from remixing.services.jobs import remix_cancel

    with transaction.atomic():
        remix = (
            Remix.objects.select_for_update(of=("self",))
            .select_related("recording")
            .filter(pk=remix_id)
            .first()
        )
        if remix is None:
            return "missing"
        if remix.status not in Remix.ACTIVE_STATUSES:
            return "skipped"
        if remix.status == Remix.Status.RENDERING and _is_fresh(remix.updated_at):
            return "skipped"
        remixability = recording_remixability(recording=remix.recording)
        if not remixability.remixable:
            remix_cancel(
                remix=remix,
                reason=f"The track can no longer be remixed. {remixability.why_not}".strip(),
                actor_kind=RemixEvent.Actor.WORKER,
            )
            return "cancelled"
        stem_set = remix.stem_set
        if stem_set is None:
            stem_set = stemset_for_recording(recording=remix.recording, start=False)
            remix.stem_set = stem_set
        # Lock the set so its "ready" and our "waiting" cannot cross unseen:
        # whichever commits second sees the other.
        stem_set = StemSet.objects.select_for_update().get(pk=stem_set.pk)
        if stem_set.status != StemSet.Status.READY:
            if stem_set.status != StemSet.Status.RUNNING:
                stemset_request(stem_set=stem_set, recording=remix.recording)
            if remix.status != Remix.Status.SEPARATING:
                previous = remix.status
                remix.status = Remix.Status.SEPARATING
                remix.stage = "Making stems"
                remix.save(update_fields=["status", "stage", "stem_set", "updated_at"])
                remix_event_record(
                    remix=remix,
                    from_status=previous,
                    to_status=Remix.Status.SEPARATING,
                    actor_kind=RemixEvent.Actor.WORKER,
                    reason="Waiting for stems",
                    data={"stem_set_id": stem_set.pk},
                )
            return "waiting"
        previous = remix.status
        remix.status = Remix.Status.RENDERING
        remix.attempts += 1
        remix.progress = 0
        remix.stage = "Starting"
        remix.error = ""
        remix.save()
        remix_event_record(
            remix=remix,
            from_status=previous,
            to_status=Remix.Status.RENDERING,
            actor_kind=RemixEvent.Actor.WORKER,
            reason="Render started" + (" (retry)" if remix.attempts > 1 else ""),
        )
        return remix, remix.attempts


def _tags(remix: Remix) -> dict:
    """Credits in every file: original title, artists, songwriters, ISRC/ISWC."""
    credits = recording_credits(recording=remix.recording)
    fan = remix.fan
    remixer = (getattr(fan, "display_name", "") or "").strip() or "A Clearmix fan"
    return {
        "remixer": remixer,
        "original_title": credits.title,
        "original_artists": tuple(credits.main_artists + credits.featured_artists),
        "songwriters": tuple(name for name, _ in credits.songwriters),
        "source_isrc": credits.isrc or None,
        "iswc": credits.iswc or None,
        "remix_id": str(remix.pk),
        "title": remix.title or None,
        "comment": f"{credits.credit_line}. Licensed remix made on Clearmix.",
        "year": str(timezone.now().year),
    }


def _remix_finish(remix_id: int, attempt: int, result: audio.RenderOutput) -> str:
    from remixing.services.jobs import remix_cancel

    with transaction.atomic():
        remix = (
            Remix.objects.select_for_update(of=("self",))
            .select_related("recording")
            .filter(pk=remix_id)
            .first()
        )
        if remix is None or remix.status == Remix.Status.CANCELLED:
            return "cancelled"
        if remix.attempts != attempt or remix.status != Remix.Status.RENDERING:
            return "superseded"
        remixability = recording_remixability(recording=remix.recording)
        if not remixability.remixable:
            remix_cancel(
                remix=remix,
                reason=f"The track can no longer be remixed. {remixability.why_not}".strip(),
                actor_kind=RemixEvent.Actor.WORKER,
            )
            return "cancelled"
        stored: list[str] = []
        try:
            for field_name, path in (
                ("output_mp3", result.mp3),
                ("output_ogg", result.ogg),
                ("output_wav", result.wav),
            ):
                if path is None:
                    setattr(remix, field_name, "")
                    continue
                field = remix._meta.get_field(field_name)
                name = put(field.generate_filename(remix, f"remix-{remix.pk}{path.suffix}"), path)
                stored.append(name)
                setattr(remix, field_name, name)
        except BaseException:
            for name in stored:
                delete_quietly(name)
            raise
        remix.status = Remix.Status.READY
        remix.progress = 100
        remix.stage = "Ready"
        remix.output_sha256 = result.sha256
        remix.duration_s = result.duration_s
        remix.integrated_lufs = result.integrated_lufs
        remix.true_peak_dbtp = result.true_peak_dbtp
        remix.rendered_recipe = remix.recipe
        remix.rendered_at = timezone.now()
        remix.save()
        remix_event_record(
            remix=remix,
            from_status=Remix.Status.RENDERING,
            to_status=Remix.Status.READY,
            actor_kind=RemixEvent.Actor.WORKER,
            reason="Rendered",
            data={
                "sha256": result.sha256,
                "integrated_lufs": result.integrated_lufs,
                "true_peak_dbtp": result.true_peak_dbtp,
                "consent_event_ids": list(remixability.consent_event_ids),
            },
        )
        RemixNotice.objects.create(
            fan_id=remix.fan_id,
            remix=remix,
            kind=RemixNotice.Kind.READY,
            message=f"Your remix “{remix.title}” is ready to download.",
        )
    return "ready"


def render_execute(remix_id: int) -> str:
    """Render one paid remix to MP3 + Ogg (+ WAV when configured)."""
    claim = _remix_claim(remix_id)
    if isinstance(claim, str):
        return claim
    remix, attempt = claim
    progress = Progress(
        model=Remix,
        pk=remix.pk,
        attempt=attempt,
        running_status=Remix.Status.RENDERING,
        start=0,
        end=95,
    )
    try:
        stems = list(remix.stem_set.stems.order_by("name"))
        if not stems:
            raise JobFailed("The stem set has no stems.")
        tags = _tags(remix)
        with work_dir("render") as scratch:
            scratch = Path(scratch)
            local: dict[str, Path] = {}
            for stem in stems:
                progress.check()
                # Copy every stem locally first: remote storage yields temp files.
                with local_copy(stem.lossless) as path:
                    target = scratch / f"stem-{stem.name}{path.suffix}"
                    _link_or_copy(path, target)
                    local[stem.name] = target
            progress(0.05, "Mixing")
            result = audio.render(
                stems=local,
                recipe=remix.recipe,
                out_dir=scratch / "out",
                basename=f"remix-{remix.pk}",
                tags=tags,
                progress=progress,
                wav=bool(getattr(settings, "REMIXING_RENDER_WAV", False)),
            )
            progress.check()
            return _remix_finish(remix.pk, attempt, result)
    except JobCancelled:
        return "cancelled"
    except JobSuperseded:
        return "superseded"
    except (audio.AudioError, JobFailed) as error:
        remix_fail_by_id(remix.pk, str(error), attempt=attempt)
        return "failed"


def _link_or_copy(src: Path, dest: Path) -> None:
    import shutil

    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)
