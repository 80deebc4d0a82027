"""Making lossy previews (the work a worker does, once): a recording's, and
the studio's light streams of stems made before those existed.

The master never reaches a browser; these do. Made once per master audio
(its hash is recorded): a second request for the same audio finds them ready,
and a replaced master gets new files under new names.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from django.db.models import F
from django.utils import timezone

from catalog.models import Recording
from remixing import audio
from remixing.engine.audio_io import AudioIOError, load_audio
from remixing.models import RecordingPreview, Stem, StemSet
from remixing.storage import delete_quietly, local_copy, put, work_dir

logger = logging.getLogger(__name__)

# A claim older than this is taken over (its worker died mid-encode).
CLAIM_STALE = timedelta(minutes=10)


def preview_sha(recording: Recording) -> str:
    """What identifies the master's audio (its hash; else its stored name)."""
    return recording.audio_sha256 or recording.audio.name.rsplit("/", 1)[-1].split(".")[0]


def _claim(preview: RecordingPreview) -> bool:
    """Compare-and-set to running; two workers never encode the same row."""
    stale = timezone.now() - CLAIM_STALE
    claimable = RecordingPreview.objects.filter(pk=preview.pk).exclude(
        status=RecordingPreview.Status.RUNNING, updated_at__gt=stale
    )
    return bool(
        claimable.update(
            status=RecordingPreview.Status.RUNNING,
            attempts=F("attempts") + 1,
            updated_at=timezone.now(),
        )
    )


def _encode_and_store(recording: Recording, preview: RecordingPreview, sha: str) -> dict:
    with work_dir("preview") as scratch, local_copy(recording.audio) as source:
        full, excerpt = Path(scratch) / "full.ogg", Path(scratch) / "excerpt.ogg"
        info = audio.write_recording_previews(source, full=full, excerpt=excerpt)
        names = {}
        for field, path in (("full", full), ("excerpt", excerpt)):
            wanted = getattr(preview, field).field.generate_filename(
                preview, f"{sha[:16]}-{field}.ogg"
            )
            names[field] = put(wanted, path)
    return {**info, **names}


def recording_preview_make(*, recording_id: int) -> str:
    """Encode the previews of one recording unless they exist for its audio."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None or not recording.audio:
        return "no-audio"
    sha = preview_sha(recording)
    preview, _ = RecordingPreview.objects.get_or_create(recording=recording)
    if preview.is_ready and preview.audio_sha256 == sha:
        return "ready"
    if not _claim(preview):
        return "busy"
    old = {preview.full.name, preview.excerpt.name} - {""}
    try:
        made = _encode_and_store(recording, preview, sha)
    except audio.AudioError as error:
        RecordingPreview.objects.filter(pk=preview.pk).update(
            status=RecordingPreview.Status.FAILED, error=str(error)[:2000]
        )
        logger.warning("preview of recording %s failed: %s", recording_id, error)
        return "failed"
    RecordingPreview.objects.filter(pk=preview.pk).update(
        status=RecordingPreview.Status.READY, audio_sha256=sha, error="", **made
    )
    for name in old - {made["full"], made["excerpt"]}:
        delete_quietly(name)
    return "ready"


def recording_preview_fail(*, recording_id: int, error: str) -> None:
    """Retries exhausted: say so instead of staying "running"."""
    RecordingPreview.objects.filter(recording_id=recording_id).update(
        status=RecordingPreview.Status.FAILED, error=error[:2000]
    )


# --- Light studio streams of stems made before they existed -----------------------------


def _stem_light_streams_make(stem: Stem) -> None:
    with work_dir("stem-preview") as scratch, local_copy(stem.lossless) as source:
        data, samplerate = load_audio(source)
        opus, mp3 = Path(scratch) / f"{stem.name}.opus", Path(scratch) / f"{stem.name}.mp3"
        made = audio.write_stem_previews(data, samplerate, opus=opus, mp3=mp3)
        names = {
            field: put(getattr(stem, field).field.generate_filename(stem, path.name), path)
            for field, path in (("preview", opus), ("preview_mp3", mp3))
        }
    old = stem.preview.name
    Stem.objects.filter(pk=stem.pk).update(peaks=made["peaks"], **names)
    if old and old not in names.values():
        delete_quietly(old)  # the Vorbis preview it replaces


def stemset_light_streams_make(*, stem_set_id: int) -> dict[str, int]:
    """Give each stem of a ready set that lacks them its Opus and MP3 previews
    and its peaks, from the lossless file. Idempotent: made stems are skipped."""
    counts = {"made": 0, "ready": 0, "failed": 0}
    stems = Stem.objects.filter(stem_set_id=stem_set_id, stem_set__status=StemSet.Status.READY)
    for stem in stems.order_by("name"):
        if stem.has_light_streams:
            counts["ready"] += 1
            continue
        try:
            _stem_light_streams_make(stem)
        except (audio.AudioError, AudioIOError) as error:
            counts["failed"] += 1
            logger.warning("light streams of stem %s failed: %s", stem.pk, error)
            continue
        counts["made"] += 1
    return counts
