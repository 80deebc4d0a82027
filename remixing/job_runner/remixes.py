"""The remix render job: wait for the stems, render the recipe, store the files."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.roles import user_public_name
from catalog.selectors import recording_credits, recording_remixability
from remixing import audio
from remixing.leases import (
    duration_words,
    lease_clear,
    retry_delay_seconds,
)
from remixing.models import Remix, RemixEvent, RemixNotice, StemSet
from remixing.selectors import (
    remix_chain,
    remix_chain_line,
    remix_cover_performer,
    remix_terms_refusal,
)
from remixing.services.job_records import (
    REMIX_NO_STEMS,
    remix_cancel,
    remix_event_record,
    remix_fail_for_good,
)
from remixing.services.remixes import remix_enqueue
from remixing.services.stems import stemset_for_recording, stemset_request
from remixing.storage import delete_quietly, local_copy, put

from .attempts import (
    JobFailed,
    Progress,
    attempt_in_run,
    failure_detail,
    interrupted_detail,
    job_attempt_failed,
    job_claim_locked,
    job_finish_locked,
    job_lease_expired,
    job_run,
    lease_take,
)

logger = logging.getLogger(__name__)

# What fans read. Plain words: what happened and what comes next.
REMIX_RETRYING = "Rendering hit a problem; we'll try again automatically in {when}."
REMIX_INTERRUPTED = "Rendering was interrupted; we're picking it up again."
REMIX_BAD_INPUT = "We couldn't render your remix: a file it needs could not be read."
REMIX_FAILED = "Something went wrong while rendering your remix, and we couldn't finish it."
REMIX_GAVE_UP = "We tried {attempts} times and couldn't render your remix."
REMIX_TOO_LONG = "Rendering your remix took too long and was stopped."


def _remix_retry_or_fail(
    remix: Remix, *, detail: str, delay: float | None, enqueue: bool = True
) -> str:
    """The attempt that held `remix` (locked) ended without output: queue
    the next one (after `delay`, or the backoff) or fail for good. A claim
    that takes over passes enqueue=False: it runs the next attempt itself."""
    if remix.attempts >= remix.attempt_limit:
        reason = REMIX_GAVE_UP.format(attempts=remix.attempts)
        remix_fail_for_good(remix=remix, reason=reason, detail=detail)
        return "failed"
    if delay is None:
        delay = retry_delay_seconds(attempt_in_run(remix))
        remix.stage = REMIX_RETRYING.format(when=duration_words(delay))
    else:
        remix.stage = REMIX_INTERRUPTED
    previous = remix.status
    remix.status = Remix.Status.QUEUED
    remix.progress = 0
    remix.error_detail = detail[:2000]
    lease_clear(remix)
    remix.save()
    remix_event_record(
        remix=remix,
        from_status=previous,
        to_status=Remix.Status.QUEUED,
        actor_kind=RemixEvent.Actor.WORKER,
        reason=f"Attempt {remix.attempts} did not finish; next attempt in {int(delay)} s",
        data={"detail": detail[:2000]},
    )
    if enqueue:
        remix_enqueue(remix=remix, countdown=delay)
    return "retrying"


def _remix_attempt_failed(remix: Remix, attempt: int, error: Exception) -> str:
    # A bad input (AudioError, JobFailed) will not heal; anything else is retried
    # with backoff.
    detail = failure_detail(error)
    permanent = isinstance(error, (audio.AudioError, JobFailed))

    def then(locked: Remix) -> str:
        if permanent:
            remix_fail_for_good(remix=locked, reason=REMIX_BAD_INPUT, detail=detail)
            return "failed"
        return _remix_retry_or_fail(locked, detail=detail, delay=None)

    return job_attempt_failed(Remix, remix.pk, attempt, then=then)


def remix_lease_expired(*, remix_id: int) -> str:
    """Sweep: a rendering remix whose lease expired (or whose holder died on
    this host) goes back to the queue now; the interruption counts as an
    attempt. "" if its lease is live after all."""
    return job_lease_expired(Remix, remix_id, requeue=_remix_retry_or_fail)


def _remix_wait_for_stems(remix: Remix) -> str | None:
    """None when the remix's stems are ready; else why the render waits (or ends)."""
    stem_set = remix.stem_set
    if stem_set is None:
        stem_set = stemset_for_recording(recording=remix.recording, start=False)
        remix.stem_set = stem_set
    # Lock the set so its "ready" and our "waiting" cannot cross unseen:
    # whichever commits second sees the other.
    stem_set = StemSet.objects.select_for_update().get(pk=stem_set.pk)
    if stem_set.status == StemSet.Status.READY:
        return None
    if stem_set.status == StemSet.Status.FAILED:
        remix_fail_for_good(remix=remix, reason=REMIX_NO_STEMS, detail=stem_set.error_detail)
        return "failed"
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


def remix_claim(remix_id: int) -> tuple[Remix, int] | str:
    with transaction.atomic():
        remix = job_claim_locked(Remix, remix_id, waiting=Remix.ACTIVE_STATUSES)
        if isinstance(remix, str):
            return remix
        now = timezone.now()
        remixability = recording_remixability(recording=remix.recording)
        refusal = remixability.remixable and remix_terms_refusal(
            remix=remix, terms=dict(remixability.terms)
        )
        if not remixability.remixable or refusal:
            why = refusal or f"The track can no longer be remixed. {remixability.why_not}".strip()
            remix_cancel(remix=remix, reason=why, actor_kind=RemixEvent.Actor.WORKER)
            return "cancelled"
        if remix.status == Remix.Status.RENDERING:
            logger.warning("remix %s: %s", remix.pk, interrupted_detail(remix))
            detail = interrupted_detail(remix)
            if _remix_retry_or_fail(remix, detail=detail, delay=0, enqueue=False) == "failed":
                return "failed"
        waiting = _remix_wait_for_stems(remix)
        if waiting:
            return waiting
        previous = remix.status
        remix.status = Remix.Status.RENDERING
        lease_take(remix, now)
        remix.error = ""
        remix.save()
        remix_event_record(
            remix=remix,
            from_status=previous,
            to_status=Remix.Status.RENDERING,
            actor_kind=RemixEvent.Actor.WORKER,
            reason="Render started" + (" (retry)" if remix.attempts > 1 else ""),
            data={"worker": remix.lease_owner},
        )
        return remix, remix.attempts


def remix_file_tags(remix: Remix) -> dict:
    """Credits in every file: original title, artists, songwriters, ISRC/ISWC."""
    credits = recording_credits(recording=remix.recording)
    fan = remix.fan
    remixer = user_public_name(fan, fallback="A Clearmix fan")
    inspired = remix_chain_line(remix_chain(remix=remix))
    return {
        "remixer": remixer,
        "original_title": credits.title,
        "original_artists": tuple(credits.main_artists + credits.featured_artists),
        "songwriters": tuple(name for name, _ in credits.songwriters),
        "source_isrc": credits.isrc or None,
        "iswc": credits.iswc or None,
        "remix_id": str(remix.pk),
        "title": remix.title or None,
        "comment": " ".join(
            part
            for part in (
                f"{credits.credit_line}.",
                f"{inspired}." if inspired else "",
                "Licensed remix made on Clearmix.",
            )
            if part
        ),
        "stems_source": remix.stem_set.source_label if remix.stem_set else None,
        "cover_performer": remix_cover_performer(remix=remix) or None,
        "year": str(timezone.now().year),
    }


def _remix_outputs_store(remix: Remix, result: audio.RenderOutput) -> None:
    """Put the rendered files in storage and on the remix; none stays behind on failure."""
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


def _remix_mark_ready(remix: Remix, result: audio.RenderOutput) -> None:
    remix.status = Remix.Status.READY
    remix.progress = 100
    remix.stage = "Ready"
    remix.error = remix.error_detail = ""
    remix.lease_owner, remix.lease_expires_at = "", None
    remix.output_sha256 = result.sha256
    remix.duration_s = result.duration_s
    remix.integrated_lufs = result.integrated_lufs
    remix.true_peak_dbtp = result.true_peak_dbtp
    remix.rendered_recipe = remix.recipe
    remix.rendered_at = timezone.now()
    remix.save()


def _remix_finish(remix_id: int, attempt: int, result: audio.RenderOutput) -> str:
    with transaction.atomic():
        remix = job_finish_locked(Remix, remix_id, attempt)
        if isinstance(remix, str):
            return remix
        remixability = recording_remixability(recording=remix.recording)
        if not remixability.remixable:
            remix_cancel(
                remix=remix,
                reason=f"The track can no longer be remixed. {remixability.why_not}".strip(),
                actor_kind=RemixEvent.Actor.WORKER,
            )
            return "cancelled"
        _remix_outputs_store(remix, result)
        _remix_mark_ready(remix, result)
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
                **_cover_credit(remix),
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
    return job_run(
        remix_claim(remix_id),
        model=Remix,
        end=95,
        scratch="render",
        work=_render,
        failed=_remix_attempt_failed,
    )


def _render(remix: Remix, attempt: int, progress: Progress, scratch: Path) -> str:
    stems = list(remix.stem_set.stems.order_by("name"))
    if not stems:
        raise JobFailed("The stem set has no stems.")
    tags = remix_file_tags(remix)
    local: dict[str, Path] = {}
    for stem in stems:
        progress.check()
        # Copy every stem locally first: remote storage yields temp files.
        with local_copy(stem.lossless) as path:
            target = scratch / f"stem-{stem.name}{path.suffix}"
            _link_or_copy(path, target)
            local[stem.name] = target
    takes = _cover_takes_local(remix, scratch)
    progress(0.05, "Mixing")
    result = audio.render(
        stems=local,
        takes=takes,
        recipe=remix.recipe,
        out_dir=scratch / "out",
        basename=f"remix-{remix.pk}",
        tags=tags,
        progress=progress,
        wav=settings.REMIXING_RENDER_WAV,
    )
    progress.check()
    return _remix_finish(remix.pk, attempt, result)


def _cover_credit(remix: Remix) -> dict:
    performer = remix_cover_performer(remix=remix)
    return {"cover_performer": performer} if performer else {}


def _cover_takes_local(remix: Remix, scratch: Path) -> dict[str, Path]:
    """The take the recipe's cover names, copied next to the stems ({} without one)."""
    ref = (remix.recipe.get("cover") or {}).get("take")
    take = remix.cover_takes.filter(ref=ref).first() if ref else None
    if take is None:
        return {}
    with local_copy(take.audio) as path:
        target = scratch / f"take-{take.ref}{path.suffix}"
        _link_or_copy(path, target)
    return {take.ref: target}


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)
