"""Remix lifecycle: draft, recipe autosave, paid render, publish, unpublish.

Remixability (catalog's rule) is checked at every door: create, recipe save,
render start, job start, before ready, publish. Fan entitlement (Premium +
Remix add-on) and payment are marketplace's to guard; `remix_render_start`
is its hook once an order is paid.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Recording
from catalog.terms import TERM_REFUSALS
from core.errors import Conflict, DomainError, NotFound
from core.refs import NOT_REMIXABLE
from remixing.engine import presets as engine_presets
from remixing.engine.recipe import (
    RecipeError,
    recipe_forbidden_transformations,
    recipe_to_dict,
    recipe_validate,
)
from remixing.enqueue import RENDER, task_enqueue_on_commit
from remixing.leases import max_attempts
from remixing.models import CoverTake, Remix, RemixEvent, RemixNotice, RemixPlay, StemSet
from remixing.published import remixes_published_changed
from remixing.selectors import (
    fork_draft_for,
    recording_remixability_require,
    stem_names_for,
    stemset_bars,
)
from remixing.signals import remix_played, remix_published, send_on_commit

from .job_records import remix_event_record, remix_fan_note_record
from .stems import stemset_for_recording

RECIPE_FIELD = "recipe"


def _require_owner(remix: Remix, fan) -> None:
    # Others get "not found": a draft's existence is private.
    if fan is None or remix.fan_id != getattr(fan, "pk", None):
        raise NotFound("Remix not found.")


def _prefixed(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        (f"{RECIPE_FIELD}.{path}" if path else RECIPE_FIELD): messages
        for path, messages in errors.items()
    }


def recipe_check(
    *,
    data: Any,
    stems: list[str],
    duration_s: float | None,
    terms: dict,
    bars: list[float] | None = None,
) -> dict[str, Any]:
    """Validate a recipe against the track's stems and the rights holders'
    terms; returns the canonical dict. Field paths start with "recipe."."""
    try:
        recipe = recipe_validate(data, stems=stems, duration_s=duration_s, bars=bars)
    except RecipeError as error:
        fields = _prefixed(error.as_dict())
        first_path, first_messages = next(iter(fields.items()))
        raise DomainError(
            f"{first_path}: {first_messages[0]}", code="invalid_recipe", fields=fields
        ) from None
    forbidden = recipe_forbidden_transformations(recipe, allowed=terms, refusals=TERM_REFUSALS)
    if forbidden:
        fields: dict[str, list[str]] = {}
        for path, message in forbidden:
            fields.setdefault(f"{RECIPE_FIELD}.{path}", []).append(message)
        first_path, first_messages = next(iter(fields.items()))
        # Valid, but refused by the terms in force: a conflict with the track's state.
        raise Conflict(
            f"{first_path}: {first_messages[0]}",
            code="forbidden_transformation",
            fields=fields,
        )
    return recipe_to_dict(recipe)


def _require_own_take(canonical: dict, *, remix: Remix | None) -> None:
    """A recipe's cover names one of this remix's own takes (a take is its fan's data:
    never another fan's, never one from another remix)."""
    ref = (canonical.get("cover") or {}).get("take")
    if ref is None:
        return
    if remix is None or not CoverTake.objects.filter(remix=remix, ref=ref).exists():
        message = "No such take of this remix; record one first."
        raise DomainError(
            f"{RECIPE_FIELD}.cover.take: {message}",
            code="invalid_recipe",
            fields={f"{RECIPE_FIELD}.cover.take": [message]},
        )


def _duration_s(recording: Recording) -> float | None:
    return recording.duration_ms / 1000 if recording.duration_ms else None


def _starting_recipe(preset: str | None, *, stems, recording: Recording) -> dict:
    """The preset's recipe for these stems, or the empty recipe without a preset."""
    if not preset:
        return {"version": 1}
    try:
        return engine_presets.preset_recipe(
            preset, stems=stems, source_tempo_bpm=recording.tempo_bpm
        )
    except engine_presets.PresetError as error:
        raise DomainError(
            str(error), code="invalid_preset", fields={"preset": [str(error)]}
        ) from None


@transaction.atomic
def remix_create(
    *,
    fan,
    recording: Recording,
    recipe: dict | None = None,
    preset: str | None = None,
    title: str = "",
    parent: Remix | None = None,
) -> Remix:
    """A draft remix of a remixable recording, recording what it relies on
    (consent events, split versions, terms). Starts making stems right away
    (or reuses cached ones) so the browser studio can preview. `parent`: the
    published remix it starts from (credited; the money still follows the
    recording's split versions, like any remix of it)."""
    Recording.objects.select_for_update(no_key=True).filter(pk=recording.pk).first()
    remixability = recording_remixability_require(recording=recording)
    stem_set = stemset_for_recording(recording=recording)
    stems = stem_names_for(stem_set=stem_set, recording=recording)
    if recipe is None:
        recipe = _starting_recipe(preset, stems=stems, recording=recording)
    canonical = recipe_check(
        data=recipe, stems=stems, duration_s=_duration_s(recording), terms=remixability.terms
    )
    _require_own_take(canonical, remix=None)
    remix = Remix.objects.create(
        fan=fan,
        recording=recording,
        title=title or f"{recording.title} (remix)",
        recipe=canonical,
        preset=preset or "",
        stem_set=stem_set,
        terms=dict(remixability.terms),
        master_split_version_id=remixability.master_split_version_id,
        publishing_split_version_id=remixability.publishing_split_version_id,
        parent=parent,
    )
    remix.consent_events.set(remixability.consent_event_ids)
    remix_event_record(
        remix=remix,
        from_status="",
        to_status=Remix.Status.DRAFT,
        actor_kind=RemixEvent.Actor.FAN,
        actor=fan,
        reason="Draft created"
        + (f" from preset {preset}" if preset else "")
        + (f" from remix #{parent.pk} by @{parent.fan.handle}" if parent else ""),
        data={
            "parent_remix_id": parent.pk if parent else None,
            "consent_event_ids": list(remixability.consent_event_ids),
            "master_split_version_id": remixability.master_split_version_id,
            "publishing_split_version_id": remixability.publishing_split_version_id,
            "terms": dict(remixability.terms),
            "stem_set_id": stem_set.pk,
        },
    )
    return remix


def _forkable_parent(parent_id: int) -> Remix:
    parent = (
        Remix.objects.select_for_update(no_key=True)
        .select_related("recording", "fan")
        .filter(pk=parent_id, status=Remix.Status.PUBLISHED)
        .first()
    )
    if parent is None:
        raise NotFound("Remix not found.")
    if not parent.allow_forks:
        raise DomainError(
            "Its author has not allowed others to build on this remix.",
            code="fork_not_allowed",
            status_code=403,
        )
    return parent


@transaction.atomic
def remix_fork(*, fan, parent: Remix, new: bool = False) -> Remix:
    """Remix this remix: a draft of the same recording that starts from a
    published remix's recipe, when its author allows it. The recipe is checked
    against the track's terms of today, like any draft.

    Idempotent per fan and parent: while the fan has an open fork of it (a draft,
    never paid for), that draft is returned; `new` asks for another one anyway."""
    # The parent's row lock serialises forks of it, so two clicks at once cannot
    # both find no open draft and make two (one fan may want several on purpose,
    # so no unique constraint can say it).
    parent = _forkable_parent(parent.pk)
    existing = None if new else fork_draft_for(fan=fan, parent=parent)
    if existing is not None:
        return existing
    # The parent's cover vocal is its fan's own take: it never travels to a fork.
    recipe = {key: value for key, value in parent.recipe.items() if key != "cover"}
    return remix_create(
        fan=fan,
        recording=parent.recording,
        recipe=recipe,
        title=f"{parent.title} (remix)"[:200],
        parent=parent,
    )


@transaction.atomic
def remix_forks_allow(*, remix: Remix, fan, allow: bool) -> Remix:
    """The author lets others build on this remix (or stops letting them)."""
    _require_owner(remix, fan)
    Remix.objects.filter(pk=remix.pk).update(allow_forks=allow)
    remix.allow_forks = allow
    remixes_published_changed()  # its page offers (or stops offering) to fork it
    return remix


def _recipe_without_cover(recipe: dict) -> dict:
    return {key: value for key, value in recipe.items() if key != "cover"}


def _recipe_checked_for_save(remix: Remix, recipe: Any) -> dict:
    """The canonical recipe to save. Only taking the cover vocal out (the fan's own
    take) skips the terms: it removes, never adds, and a closed track or revoked covers
    must not keep a fan's recording in their remix."""
    if remix.recipe.get("cover") and recipe == _recipe_without_cover(remix.recipe):
        return _recipe_without_cover(remix.recipe)
    remixability = recording_remixability_require(recording=remix.recording)
    stems = stem_names_for(stem_set=remix.stem_set, recording=remix.recording)
    canonical = recipe_check(
        data=recipe,
        stems=stems,
        duration_s=_duration_s(remix.recording),
        terms=remixability.terms,
        bars=stemset_bars(stem_set=remix.stem_set),
    )
    _require_own_take(canonical, remix=remix)
    return canonical


@transaction.atomic
def remix_update_recipe(
    *,
    remix: Remix,
    fan,
    recipe: dict,
    expected_version: int | None = None,
    audit_reason: str = "",
    audit_data: dict | None = None,
) -> Remix:
    """Draft autosave. Each save bumps `recipe_version`; a client that sends
    the version it edited gets 409 if another tab saved in between. With
    `audit_reason`, a save that changes the recipe is also recorded in the
    remix's story (autosaves are too many to record each)."""
    _require_owner(remix, fan)
    remix = (
        Remix.objects.select_for_update(no_key=True).select_related("recording").get(pk=remix.pk)
    )
    if remix.status != Remix.Status.DRAFT:
        raise Conflict(
            "Only a draft's recipe can change; this remix is already "
            f"{remix.get_status_display().lower()}.",
            code="not_draft",
        )
    if expected_version is not None and expected_version != remix.recipe_version:
        raise Conflict(
            "This recipe was changed elsewhere; reload to see the latest version.",
            code="stale_recipe",
            fields={"recipe_version": [f"Current version is {remix.recipe_version}."]},
        )
    canonical = _recipe_checked_for_save(remix, recipe)
    if canonical != remix.recipe:
        remix.recipe = canonical
        remix.recipe_version += 1
        remix.preset = engine_presets.classify_recipe(canonical) or ""
        remix.save(update_fields=["recipe", "recipe_version", "preset", "updated_at"])
        if audit_reason:
            data = {**(audit_data or {}), "recipe_version": remix.recipe_version}
            remix_fan_note_record(remix=remix, fan=fan, reason=audit_reason, data=data)
    return remix


@transaction.atomic
def remix_request_stems(
    *, remix: Remix | None = None, recording: Recording | None = None
) -> StemSet:
    """Start (or reuse) the stems for a remix or a recording."""
    if remix is not None:
        recording = remix.recording
    if recording is None:
        raise DomainError("Say which remix or recording needs stems.")
    recording_remixability_require(recording=recording)
    stem_set = stemset_for_recording(recording=recording)
    if remix is not None and remix.stem_set_id != stem_set.pk and remix.status == "draft":
        remix.stem_set = stem_set
        remix.save(update_fields=["stem_set", "updated_at"])
    return stem_set


def _recipe_check_against_terms(remix: Remix, terms: dict) -> dict:
    """The saved recipe, checked again against the terms in force now (they may
    have narrowed since the draft was saved); its canonical form."""
    stems = stem_names_for(stem_set=remix.stem_set, recording=remix.recording)
    try:
        return recipe_check(
            data=remix.recipe,
            stems=stems,
            duration_s=_duration_s(remix.recording),
            terms=terms,
        )
    except DomainError as refused:
        if refused.code != "forbidden_transformation":
            raise
        # A term the recipe uses was switched off (covers revoked, say): a
        # consent failure like any other, so a paid order is refunded.
        # In the fan's words: the terms' message, without the recipe's field path.
        plain = next(iter(refused.fields.values()), [refused.message])[0]
        raise Conflict(
            f"The artist's terms no longer allow this remix. {plain}",
            code=NOT_REMIXABLE,
            fields=refused.fields,
        ) from None


@transaction.atomic
def remix_render_start(*, remix: Remix, actor=None) -> Remix:
    """Queue the export render. Marketplace calls this once the order is
    paid (and may call it again to retry a failed render). Raises
    DomainError(code=NOT_REMIXABLE) if consent went away: refund then."""
    remix = (
        Remix.objects.select_for_update(no_key=True).select_related("recording").get(pk=remix.pk)
    )
    if remix.status in (*Remix.ACTIVE_STATUSES, Remix.Status.READY, Remix.Status.PUBLISHED):
        return remix  # already going or done: paying twice must not render twice
    if remix.status not in (Remix.Status.DRAFT, Remix.Status.FAILED):
        raise Conflict(
            f"A {remix.get_status_display().lower()} remix cannot be rendered.",
            code="not_renderable",
        )
    remixability = recording_remixability_require(recording=remix.recording)
    _require_own_take(_recipe_check_against_terms(remix, remixability.terms), remix=remix)
    previous = remix.status
    remix.status = Remix.Status.QUEUED
    remix.progress = 0
    remix.stage = "Waiting for a worker"
    remix.error = remix.error_detail = ""
    # A fresh budget of attempts for this render (a failed one may be retried).
    remix.attempt_limit = remix.attempts + max_attempts()
    remix.paid_at = remix.paid_at or timezone.now()
    # What is rendered is what was paid for, even if relied-on facts move.
    remix.terms = dict(remixability.terms)
    remix.save()
    remix.consent_events.add(*remixability.consent_event_ids)
    remix_event_record(
        remix=remix,
        from_status=previous,
        to_status=Remix.Status.QUEUED,
        actor_kind=RemixEvent.Actor.SYSTEM if actor is None else RemixEvent.Actor.FAN,
        actor=actor,
        reason="Render requested after payment",
        data={"consent_event_ids": list(remixability.consent_event_ids)},
    )
    remix_enqueue(remix=remix)
    return remix


def remix_enqueue(*, remix: Remix, countdown: float = 0) -> None:
    """Queue the render task after commit and note when, so the sweep can
    tell a lost message (broker restart or flush) from one still waiting."""
    Remix.objects.filter(pk=remix.pk).update(
        queued_at=timezone.now() + timedelta(seconds=countdown)
    )
    task_enqueue_on_commit(RENDER, remix.pk, countdown=countdown)


@transaction.atomic
def remix_publish(*, remix: Remix, fan, title: str, description: str = "") -> Remix:
    """Publish a paid, rendered remix, if the rights holders' terms allow it."""
    _require_owner(remix, fan)
    remix = (
        Remix.objects.select_for_update(no_key=True).select_related("recording").get(pk=remix.pk)
    )
    title = (title or "").strip()
    if not title:
        raise DomainError("Give your remix a title.", fields={"title": ["Required."]})
    if len(title) > 200:
        raise DomainError("That title is too long.", fields={"title": ["At most 200 characters."]})
    if remix.status == Remix.Status.PUBLISHED:
        return remix
    if remix.status != Remix.Status.READY or remix.paid_at is None:
        raise Conflict("Only a paid, rendered remix can be published.", code="not_ready")
    remixability = recording_remixability_require(recording=remix.recording)
    if remixability.terms.get("publication") is not True:
        raise DomainError(
            "The rights holders do not allow publishing remixes of this track.",
            code="publication_not_allowed",
            fields={"publication": ["Not allowed by the artist's terms."]},
            status_code=409,
        )
    remix.title = title
    remix.description = description or ""
    remix.status = Remix.Status.PUBLISHED
    remix.published_at = timezone.now()
    remix.unpublished_at = None
    remix.save()
    remix.consent_events.add(*remixability.consent_event_ids)
    remix_event_record(
        remix=remix,
        from_status=Remix.Status.READY,
        to_status=Remix.Status.PUBLISHED,
        actor_kind=RemixEvent.Actor.FAN,
        actor=fan,
        reason="Published by the fan",
        data={"consent_event_ids": list(remixability.consent_event_ids)},
    )
    send_on_commit(remix_published, remix_id=remix.pk, fan_id=remix.fan_id)
    return remix


@transaction.atomic
def remix_unpublish(
    *,
    remix: Remix,
    actor=None,
    actor_kind: str = RemixEvent.Actor.FAN,
    reason: str = "Unpublished by the fan",
    consent_event_id: int | None = None,
    notify: bool | None = None,
) -> Remix:
    """Take a published remix down (back to ready). The fan may do it; the
    catalog does it when consent is revoked under unpublish-on-revoke terms."""
    if actor_kind == RemixEvent.Actor.FAN:
        _require_owner(remix, actor)
    remix = Remix.objects.select_for_update().get(pk=remix.pk)
    if remix.status != Remix.Status.PUBLISHED:
        return remix
    remix.status = Remix.Status.READY
    remix.unpublished_at = timezone.now()
    remix.save(update_fields=["status", "unpublished_at", "updated_at"])
    remix_event_record(
        remix=remix,
        from_status=Remix.Status.PUBLISHED,
        to_status=Remix.Status.READY,
        actor_kind=actor_kind,
        actor=actor,
        reason=reason,
        consent_event_id=consent_event_id,
        data={"unpublished": True},
    )
    if notify if notify is not None else actor_kind != RemixEvent.Actor.FAN:
        RemixNotice.objects.create(
            fan_id=remix.fan_id,
            remix=remix,
            kind=RemixNotice.Kind.UNPUBLISHED,
            message=f"Your remix “{remix.title}” was unpublished: {reason}",
        )
    return remix


def _play_window_start(now: datetime, window_seconds: int) -> datetime:
    start = int(now.timestamp()) // window_seconds * window_seconds
    return datetime.fromtimestamp(start, tz=UTC)


def remix_play_listener(*, identity: str) -> str:
    """A keyed hash of who listened ("user:7", "ip:203.0.113.9"): plays are
    counted per listener without storing an address."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"remix-play:{identity}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def remix_play_record(*, remix: Remix, listener: str) -> int:
    """Count a play of a published remix once per listener per window; return the count."""
    if not Remix.objects.filter(pk=remix.pk, status=Remix.Status.PUBLISHED).exists():
        raise NotFound("Remix not found.")
    window = settings.REMIX_PLAY_WINDOW_SECONDS
    start = _play_window_start(timezone.now(), window)
    try:
        with transaction.atomic():
            RemixPlay.objects.create(remix=remix, listener=listener, window_start=start)
    except IntegrityError:
        pass  # this listener's play in this window is already counted
    else:
        # An UPDATE, so concurrent plays by different listeners add up.
        Remix.objects.filter(pk=remix.pk).update(play_count=F("play_count") + 1)
        remixes_published_changed()  # its page shows the count
        # Rows of past windows decide nothing any more.
        RemixPlay.objects.filter(window_start__lt=start - timedelta(seconds=window)).delete()
    send_on_commit(remix_played, remix_id=remix.pk, listener=listener)
    return Remix.objects.values_list("play_count", flat=True).get(pk=remix.pk)


@transaction.atomic
def remix_notice_mark_read(*, fan, notice_ids: list[int] | None = None) -> int:
    qs = RemixNotice.objects.filter(fan=fan, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=notice_ids)
    return qs.update(read_at=timezone.now())


def remix_notice_create(*, remix: Remix, kind: str, message: str) -> RemixNotice:
    """Something the remix's fan must read on their next visit."""
    return RemixNotice.objects.create(fan_id=remix.fan_id, remix=remix, kind=kind, message=message)
