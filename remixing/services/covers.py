"""Sing your own cover: the fan's recorded takes of a remix (issue 17, item 3).

A take is checked and decoded before anything is stored (remixing.cover_audio),
kept privately under the remix's folder, and recorded in the remix's story with
the fan named as the cover's performer. Takes are the fan's data: they go when
the fan deletes their account (`cover_takes_delete_for_user`).
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts.roles import user_public_name
from catalog.audio_probe import AudioRejected, stream_to_file
from core.errors import Conflict, DomainError, NotFound
from remixing.cover_audio import take_decode
from remixing.engine.cover import LATENCY_MS_MAX, LEAD_S_MAX, SUNG_TEMPO_MAX, SUNG_TEMPO_MIN
from remixing.engine.recipe import TERM_COVERS
from remixing.models import CoverTake, Remix
from remixing.selectors import recording_remixability_require
from remixing.storage import delete_quietly, put

from .job_records import remix_fan_note_record
from .remixes import remix_update_recipe

COVERS_NOT_ALLOWED = "covers_not_allowed"


def _checked_number(value, *, field: str, hi: float, lo: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or not lo <= number <= hi:
        message = f"Must be a number between {lo:g} and {hi:g}."
        raise DomainError(f"{field}: {message}", code="invalid_take", fields={field: [message]})
    return number


def _remix_open_for_covers(remix: Remix, fan) -> Remix:
    """The fan's draft, locked, on a track whose terms allow covers; else a clear 4xx."""
    if fan is None or remix.fan_id != getattr(fan, "pk", None):
        raise NotFound("Remix not found.")
    remix = (
        Remix.objects.select_for_update(no_key=True).select_related("recording").get(pk=remix.pk)
    )
    if remix.status != Remix.Status.DRAFT:
        raise Conflict("Takes can only be added to a draft remix.", code="not_draft")
    verdict = recording_remixability_require(recording=remix.recording)
    if verdict.terms.get(TERM_COVERS) is not True:
        raise Conflict(
            "The artist's terms for this track do not allow covers.",
            code=COVERS_NOT_ALLOWED,
        )
    if remix.cover_takes.count() >= settings.REMIXING_COVER_TAKES_PER_REMIX:
        raise Conflict(
            f"This remix already keeps {settings.REMIXING_COVER_TAKES_PER_REMIX} takes; "
            "delete one before recording another.",
            code="too_many_takes",
        )
    return remix


def _max_seconds(remix: Remix) -> float:
    track_s = (remix.recording.duration_ms or 0) / 1000
    limit = float(settings.REMIXING_COVER_TAKE_MAX_SECONDS)
    return min(limit, track_s * 2 + LEAD_S_MAX + 30) if track_s else limit


def _decoded(upload, *, workdir: Path, max_seconds: float):
    source = workdir / "upload.bin"
    try:
        with open(source, "wb") as handle:
            stream_to_file(
                upload.chunks(), handle, max_bytes=settings.REMIXING_COVER_TAKE_MAX_BYTES
            )
        return take_decode(source, workdir=workdir, max_seconds=max_seconds)
    except AudioRejected as error:
        raise DomainError(str(error), code="invalid_take", fields={"audio": [str(error)]}) from None


def cover_take_create(
    *, remix: Remix, fan, upload, lead_s, latency_ms=None, tempo_ratio=1.0
) -> CoverTake:
    """Check, decode and keep one recorded take of `remix` by its fan, sung over the
    remix played at `tempo_ratio` (the cover's sung tempo when the fan chooses it).

    Refused with a 4xx, and nothing stored, unless: the fan owns the draft, the
    track is remixable and its terms allow covers, the remix has room for
    another take, and the upload is one clean audio stream within the limits."""
    if upload is None:
        raise DomainError("Send the take.", code="invalid_take", fields={"audio": ["Required."]})
    lead = _checked_number(lead_s, field="lead_s", hi=LEAD_S_MAX)
    latency = None
    if latency_ms not in (None, ""):
        latency = _checked_number(latency_ms, field="latency_ms", hi=LATENCY_MS_MAX)
    tempo = _checked_number(tempo_ratio, field="tempo_ratio", lo=SUNG_TEMPO_MIN, hi=SUNG_TEMPO_MAX)
    with transaction.atomic():
        _remix_open_for_covers(remix, fan)  # refuse early, before decoding
    with tempfile.TemporaryDirectory(prefix="clearmix-take-") as folder:
        decoded = _decoded(upload, workdir=Path(folder), max_seconds=_max_seconds(remix))
        timing = {"lead_s": lead, "latency_ms": latency, "tempo_ratio": tempo}
        return _take_store(remix=remix, fan=fan, decoded=decoded, timing=timing)


@transaction.atomic
def _take_store(*, remix: Remix, fan, decoded, timing: dict) -> CoverTake:
    """``timing``: the take's ``lead_s``, ``latency_ms`` and sung ``tempo_ratio``."""
    remix = _remix_open_for_covers(remix, fan)  # again, under the lock
    take = CoverTake(remix=remix, fan=fan, duration_s=decoded.duration_s, **timing)
    latency = take.latency_ms
    name = take.audio.field.generate_filename(take, "take.flac")
    with open(decoded.path, "rb") as handle:
        take.sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    stored = put(name, decoded.path)
    try:
        take.audio.name = stored
        take.save()
        performer = user_public_name(fan, fallback="the fan")
        remix_fan_note_record(
            remix=remix,
            fan=fan,
            reason=f"Cover take recorded; performer: {performer}",
            data={"cover_take": take.ref, "cover_performer": performer, "latency_ms": latency},
        )
    except BaseException:
        delete_quietly(stored)
        raise
    return take


@transaction.atomic
def cover_take_delete(*, take: CoverTake, fan) -> None:
    """The fan throws a take away: their recording, theirs to delete at any time, also
    when the track is closed. The take a draft's cover uses is first taken out of the
    recipe (a new version, saved and recorded by `remix_update_recipe`, as the studio
    saves). A paid remix keeps its recipe as paid for (its cover stays credited to the
    fan); only while its render runs, reading the take, must the fan wait."""
    if fan is None or take.fan_id != getattr(fan, "pk", None):
        raise NotFound("Take not found.")
    remix = Remix.objects.select_for_update(no_key=True).get(pk=take.remix_id)
    in_recipe = (remix.recipe.get("cover") or {}).get("take") == take.ref
    if in_recipe and remix.status in Remix.ACTIVE_STATUSES:
        raise Conflict(
            "Your remix is being rendered with this take; delete it once the render is done.",
            code="take_rendering",
        )
    if in_recipe and remix.status == Remix.Status.DRAFT:
        remix_update_recipe(
            remix=remix,
            fan=fan,
            recipe={key: value for key, value in remix.recipe.items() if key != "cover"},
            audit_reason="Cover vocal taken out of the recipe: its take was deleted",
            audit_data={"cover_take": take.ref},
        )
    remix_fan_note_record(
        remix=remix, fan=fan, reason="Cover take deleted by the fan", data={"cover_take": take.ref}
    )
    name = take.audio.name or ""
    take.delete()
    transaction.on_commit(lambda: delete_quietly(name))


def cover_takes_delete_for_user(*, user) -> int:
    """Delete every take `user` recorded, files after commit (account deletion)."""
    takes = list(CoverTake.objects.filter(fan=user).only("pk", "audio"))
    names = [take.audio.name or "" for take in takes]
    CoverTake.objects.filter(pk__in=[take.pk for take in takes]).delete()

    def files_delete() -> None:
        for name in names:
            delete_quietly(name)

    transaction.on_commit(files_delete)
    return len(takes)
