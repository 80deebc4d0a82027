"""Remix lifecycle: draft, recipe autosave, paid render, publish, unpublish.

Remixability (catalog's rule) is checked at every door: create, recipe save,
render start, job start, before ready, publish. Fan entitlement (Premium +
Remix add-on) and payment are marketplace's to guard; `remix_render_start`
is its hook once an order is paid.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.errors import Conflict, DomainError, NotFound
from catalog.models import Recording
from catalog.selectors import recording_remixability
from remixing.engine import presets as engine_presets
from remixing.engine.recipe import (
    RecipeError,
    recipe_forbidden_transformations,
    recipe_to_dict,
    recipe_validate,
)
from remixing.models import Remix, RemixEvent, RemixNotice, StemSet
from remixing.selectors import stem_names_for

from .stems import stemset_for_recording

RECIPE_FIELD = "recipe"


def _require_remixable(recording: Recording):
    result = recording_remixability(recording=recording)
    if not result.remixable:
        raise DomainError(
            f"“{recording.title}” cannot be remixed right now. {result.why_not}".strip(),
            code="not_remixable",
            fields={"recording": [r.message for r in result.reasons] or ["Not remixable."]},
        )
    return result


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
    *, data: Any, stems: list[str], duration_s: float | None, terms: dict
) -> dict[str, Any]:
    """Validate a recipe against the track's stems and the rights holders'
    terms; returns the canonical dict. Field paths start with "recipe."."""
    try:
        recipe = recipe_validate(data, stems=stems, duration_s=duration_s)
    except RecipeError as error:
        fields = _prefixed(error.as_dict())
        first_path, first_messages = next(iter(fields.items()))
        raise DomainError(
            f"{first_path}: {first_messages[0]}", code="invalid_recipe", fields=fields
        ) from None
    forbidden = recipe_forbidden_transformations(recipe, allowed=terms)
    if forbidden:
        fields: dict[str, list[str]] = {}
        for path, message in forbidden:
            fields.setdefault(f"{RECIPE_FIELD}.{path}", []).append(message)
        first_path, first_messages = next(iter(fields.items()))
        raise DomainError(
            f"{first_path}: {first_messages[0]}",
            code="forbidden_transformation",
            fields=fields,
        )
    return recipe_to_dict(recipe)


def _duration_s(recording: Recording) -> float | None:
    return recording.duration_ms / 1000 if recording.duration_ms else None


def remix_event_record(
    *,
    remix: Remix,
    from_status: str,
    to_status: str,
    actor_kind: str,
    actor=None,
    reason: str = "",
    consent_event_id: int | None = None,
    data: dict | None = None,
) -> RemixEvent:
    return RemixEvent.objects.create(
        remix=remix,
        from_status=from_status,
        to_status=to_status,
        actor_kind=actor_kind,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        consent_event_id=consent_event_id,
        attempt=remix.attempts,
        data=data or {},
    )


@transaction.atomic
def remix_create(
    *,
    fan,
    recording: Recording,
    recipe: dict | None = None,
    preset: str | None = None,
    title: str = "",
) -> Remix:
    """A draft remix of a remixable recording, recording what it relies on
    (consent events, split versions, terms). Starts making stems right away
    (or reuses cached ones) so the browser studio can preview."""
    Recording.objects.select_for_update().filter(pk=recording.pk).first()
    remixability = _require_remixable(recording)
    stem_set = stemset_for_recording(recording=recording)
    stems = stem_names_for(stem_set=stem_set, recording=recording)
    if recipe is None:
        if preset:
            try:
                recipe = engine_presets.preset_recipe(
                    preset, stems=stems, source_tempo_bpm=recording.tempo_bpm
                )
            except engine_presets.PresetError as error:
                raise DomainError(
                    str(error), code="invalid_preset", fields={"preset": [str(error)]}
                ) from None
        else:
            recipe = {"version": 1}
    canonical = recipe_check(
        data=recipe, stems=stems, duration_s=_duration_s(recording), terms=remixability.terms
    )
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
    )
    remix.consent_events.set(remixability.consent_event_ids)
    remix_event_record(
        remix=remix,
        from_status="",
        to_status=Remix.Status.DRAFT,
        actor_kind=RemixEvent.Actor.FAN,
        actor=fan,
        reason="Draft created" + (f" from preset {preset}" if preset else ""),
        data={
            "consent_event_ids": list(remixability.consent_event_ids),
            "master_split_version_id": remixability.master_split_version_id,
            "publishing_split_version_id": remixability.publishing_split_version_id,
            "terms": dict(remixability.terms),
            "stem_set_id": stem_set.pk,
        },
    )
    return remix


@transaction.atomic
def remix_update_recipe(
    *, remix: Remix, fan, recipe: dict, expected_version: int | None = None
) -> Remix:
    """Draft autosave. Each save bumps `recipe_version`; a client that sends
    the version it edited gets 409 if another tab saved in between."""
    _require_owner(remix, fan)
    remix = Remix.objects.select_for_update().select_related("recording").get(pk=remix.pk)
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
    remixability = _require_remixable(remix.recording)
    stems = stem_names_for(stem_set=remix.stem_set, recording=remix.recording)
    canonical = recipe_check(
        data=recipe,
        stems=stems,
        duration_s=_duration_s(remix.recording),
        terms=remixability.terms,
    )
    if canonical != remix.recipe:
        remix.recipe = canonical
        remix.recipe_version += 1
        remix.preset = engine_presets.classify_recipe(canonical) or ""
        remix.save(update_fields=["recipe", "recipe_version", "preset", "updated_at"])
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
    _require_remixable(recording)
    stem_set = stemset_for_recording(recording=recording)
    if remix is not None and remix.stem_set_id != stem_set.pk and remix.status == "draft":
        remix.stem_set = stem_set
        remix.save(update_fields=["stem_set", "updated_at"])
    return stem_set


@transaction.atomic
def remix_render_start(*, remix: Remix, actor=None) -> Remix:
    """Queue the export render. Marketplace calls this once the order is
    paid (and may call it again to retry a failed render). Raises
    DomainError(code="not_remixable") if consent went away: refund then."""
    remix = Remix.objects.select_for_update().select_related("recording").get(pk=remix.pk)
    if remix.status in (*Remix.ACTIVE_STATUSES, Remix.Status.READY, Remix.Status.PUBLISHED):
        return remix  # already going or done: paying twice must not render twice
    if remix.status not in (Remix.Status.DRAFT, Remix.Status.FAILED):
        raise Conflict(
            f"A {remix.get_status_display().lower()} remix cannot be rendered.",
            code="not_renderable",
        )
    remixability = _require_remixable(remix.recording)
    # The terms may have narrowed since the draft was saved.
    stems = stem_names_for(stem_set=remix.stem_set, recording=remix.recording)
    recipe_check(
        data=remix.recipe,
        stems=stems,
        duration_s=_duration_s(remix.recording),
        terms=remixability.terms,
    )
    previous = remix.status
    remix.status = Remix.Status.QUEUED
    remix.progress = 0
    remix.stage = "Waiting for a worker"
    remix.error = ""
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
    from remixing import tasks

    tasks.render_run.delay_on_commit(remix.pk)
    return remix


@transaction.atomic
def remix_publish(*, remix: Remix, fan, title: str, description: str = "") -> Remix:
    """Publish a paid, rendered remix, if the rights holders' terms allow it."""
    _require_owner(remix, fan)
    remix = Remix.objects.select_for_update().select_related("recording").get(pk=remix.pk)
    title = (title or "").strip()
    if not title:
        raise DomainError("Give your remix a title.", fields={"title": ["Required."]})
    if len(title) > 200:
        raise DomainError("That title is too long.", fields={"title": ["At most 200 characters."]})
    if remix.status == Remix.Status.PUBLISHED:
        return remix
    if remix.status != Remix.Status.READY or remix.paid_at is None:
        raise Conflict("Only a paid, rendered remix can be published.", code="not_ready")
    remixability = _require_remixable(remix.recording)
    if remixability.terms.get("publication") is not True:
        raise DomainError(
            "The rights holders do not allow publishing remixes of this track.",
            code="publication_not_allowed",
            fields={"publication": ["Not allowed by the artist's terms."]},
            status_code=403,
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


def remix_play_count_increment(*, remix: Remix) -> int:
    """Count one play of a published remix; an UPDATE so concurrent plays add up."""
    updated = Remix.objects.filter(pk=remix.pk, status=Remix.Status.PUBLISHED).update(
        play_count=F("play_count") + 1
    )
    if not updated:
        raise NotFound("Remix not found.")
    return Remix.objects.values_list("play_count", flat=True).get(pk=remix.pk)


@transaction.atomic
def remix_notice_mark_read(*, fan, notice_ids: list[int] | None = None) -> int:
    qs = RemixNotice.objects.filter(fan=fan, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=notice_ids)
    return qs.update(read_at=timezone.now())
