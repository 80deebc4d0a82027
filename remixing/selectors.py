"""Reads for remixing: remixes, stem sets, stems, presets, notices, the studio."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from accounts.roles import user_public_name, user_reads_everything
from catalog.models import OfficialStem, Recording, RecordingArtist, WorkWriter
from catalog.selectors import recording_remixability, user_can_edit_splits
from catalog.terms import TERM_REFUSALS
from core.errors import Conflict, DomainError, NotFound
from core.refs import NOT_REMIXABLE
from remixing.audio import STEM_PREVIEW_HEAD_BYTES, AudioError, separation_choice
from remixing.engine import describe as engine_describe
from remixing.engine import presets as engine_presets
from remixing.engine.audio_io import sha256_file
from remixing.engine.backends import BackendChoice
from remixing.engine.describe_changes import Track as DescribedTrack
from remixing.engine.recipe import (
    RecipeError,
    recipe_forbidden_transformations,
    recipe_validate,
)
from remixing.storage import local_copy

from .models import (
    OFFICIAL_MODEL,
    CoverTake,
    RecordingPreview,
    Remix,
    RemixEvent,
    RemixNotice,
    Stem,
    StemSet,
    StemSetStructure,
)

# The sources Demucs models emit; used to offer presets before separation
# has run. A model not listed here is asked when its stems exist.
MODEL_SOURCES: dict[str, tuple[str, ...]] = {
    "htdemucs_6s": ("drums", "bass", "other", "vocals", "guitar", "piano"),
}
DEFAULT_SOURCES: tuple[str, ...] = ("drums", "bass", "other", "vocals")


def remix_get_for_owner(*, remix_id: int, user) -> Remix:
    """The fan's own remix. Anyone else gets "not found", not "forbidden":
    a draft's existence is nobody else's business."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound("Remix not found.")
    remix = (
        Remix.objects.select_related("recording", "stem_set")
        .filter(pk=remix_id, fan_id=user.pk)
        .first()
    )
    if remix is None:
        raise NotFound("Remix not found.")
    return remix


def remix_list_for_fan(*, fan) -> QuerySet[Remix]:
    return Remix.objects.filter(fan=fan).select_related("recording", "stem_set")


def remix_get_published(*, share_slug: str) -> Remix:
    # The credits the page names come with it (a fixed number of queries
    # however many artists and songwriters are credited).
    remix = (
        Remix.objects.select_related("recording__work", "fan")
        .prefetch_related(
            Prefetch(
                "recording__artists",
                queryset=RecordingArtist.objects.select_related("party").order_by("order", "id"),
            ),
            Prefetch(
                "recording__work__writers", queryset=WorkWriter.objects.select_related("party")
            ),
        )
        .filter(share_slug=share_slug, status=Remix.Status.PUBLISHED)
        .first()
    )
    if remix is None:
        raise NotFound("Remix not found.")
    return remix


def remix_list_published(*, recording: Recording | None = None, fan=None) -> QuerySet[Remix]:
    qs = Remix.objects.filter(status=Remix.Status.PUBLISHED).select_related("recording", "fan")
    if recording is not None:
        qs = qs.filter(recording=recording)
    if fan is not None:
        qs = qs.filter(fan=fan)
    return qs.order_by("-published_at", "-id")


# A chain longer than this is cut (each step is one query, on one page).
CHAIN_DEPTH = 12


@dataclass(frozen=True)
class ChainLink:
    remix_id: int
    title: str
    handle: str
    share_slug: str
    published: bool
    # How its author is named in public: "@handle", or "a deleted user" once the
    # author deleted their account (never the tombstone handle, which is for auditors).
    remixer: str


def remix_chain(*, remix: Remix) -> list[ChainLink]:
    """The remixes this one was built on, nearest first ("Inspired by ...")."""
    links: list[ChainLink] = []
    parent_id = remix.parent_id
    while parent_id is not None and len(links) < CHAIN_DEPTH:
        parent = Remix.objects.select_related("fan").filter(pk=parent_id).first()
        if parent is None:
            break
        links.append(
            ChainLink(
                remix_id=parent.pk,
                title=parent.title or f"Remix #{parent.pk}",
                handle=parent.fan.handle,
                share_slug=parent.share_slug,
                published=parent.status == Remix.Status.PUBLISHED,
                remixer=f"@{parent.fan.handle}" if parent.fan.is_active else "a deleted user",
            )
        )
        parent_id = parent.parent_id
    return links


def remix_chain_line(chain: Sequence[ChainLink]) -> str:
    """The chain in words, for file tags: who inspired this remix."""
    return ", ".join(f"Inspired by “{link.title}” by {link.remixer}" for link in chain)


def remix_history(*, remix: Remix) -> QuerySet[RemixEvent]:
    """The remix's whole story, oldest first, for auditors."""
    return remix.events.select_related("actor", "consent_event").order_by("created_at", "id")


# --- Stem sets --------------------------------------------------------------------


def stemset_key_for_recording(
    *, recording: Recording, model_name: str | None = None, compute: bool = True
) -> tuple[str, str] | None:
    """(audio hash, model) for the stems a remix of `recording` uses, or None
    when there is nothing to separate."""
    official = list(
        OfficialStem.objects.filter(recording=recording)
        .order_by("name")
        .values_list("name", "sha256")
    )
    if official:
        digest = hashlib.sha256("\n".join(f"{n}:{s}" for n, s in official).encode()).hexdigest()
        return digest, OFFICIAL_MODEL
    sha = recording.audio_sha256
    if not sha and recording.audio and compute:
        # Catalog normally fills the hash on upload; fall back to reading the
        # file rather than refusing (the hash is what makes the cache work).
        with local_copy(recording.audio) as path:
            sha = sha256_file(path)
    if not sha:
        return None
    # The configured backend (auto: Demucs when its weights are installed, else embedded).
    return sha, separation_choice_or_error(model_name).model


def separation_choice_or_error(model_name: str | None) -> BackendChoice:
    """The backend and model that would make stems named `model_name` (None: the
    configured choice), or a 503 domain error when this install cannot separate."""
    try:
        return separation_choice(model_name=model_name)
    except AudioError as error:
        raise DomainError(
            f"Stem separation is not available on this install: {error}",
            code="separation_unavailable",
            status_code=503,
        ) from None


def stemset_current_for_recording(*, recording: Recording) -> StemSet | None:
    """The stem set a remix of `recording` would use now, if one exists
    (no side effects: the service `stemset_for_recording` creates one)."""
    key = stemset_key_for_recording(recording=recording, compute=False)
    if key is None:
        return None
    sha, model = key
    return StemSet.objects.filter(audio_sha256=sha, model_name=model).first()


def recording_preview_ready(*, recording_id: int) -> RecordingPreview | None:
    """The recording's lossy previews, if made (from whatever master)."""
    return RecordingPreview.objects.filter(
        recording_id=recording_id, status=RecordingPreview.Status.READY
    ).first()


@dataclass(frozen=True)
class DeliveryReadiness:
    """Whether a paid export of this remix can be delivered now, and if not,
    what is missing and what happens next, in words a fan reads."""

    ready: bool
    missing: str = ""
    next_step: str = ""

    @property
    def message(self) -> str:
        return f"{self.missing} {self.next_step}".strip()


def remix_delivery_readiness(*, remix: Remix) -> DeliveryReadiness:
    """The one rule for "may this remix be sold now": its stems exist, or the
    rights holder's official stems do (importing them needs no model). A fan
    is never charged for a render that has nothing to render from."""
    stem_set = remix.stem_set or stemset_current_for_recording(recording=remix.recording)
    if stem_set is not None and stem_set.status == StemSet.Status.READY:
        return DeliveryReadiness(ready=True)
    official = OfficialStem.objects.filter(recording_id=remix.recording_id).exists()
    status = stem_set.status if stem_set is not None else None
    if official and status not in (StemSet.Status.FAILED, StemSet.Status.CANCELLED):
        return DeliveryReadiness(ready=True)
    if status == StemSet.Status.FAILED:
        return DeliveryReadiness(
            ready=False,
            missing="We could not prepare this track's stems yet, so it cannot be exported.",
            next_step="We retry automatically; export opens as soon as the stems are ready.",
        )
    if status == StemSet.Status.CANCELLED:
        return DeliveryReadiness(
            ready=False,
            missing="This track's stems were withdrawn, so it cannot be exported.",
            next_step="It can be exported again if the artist opts the track back in.",
        )
    return DeliveryReadiness(
        ready=False,
        missing="This track's stems are still being prepared, so it cannot be exported yet.",
        next_step="Export opens as soon as they are ready; you can keep this draft meanwhile.",
    )


def stemset_get_for_user(*, stem_set_id: int, user) -> StemSet:
    """A stem set, for whoever may use it: a fan with a remix on it, whoever
    speaks for the recording's artists, staff and auditors. Anyone else gets
    "not found", as for remixes."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound("Stem set not found.")
    stem_set = StemSet.objects.select_related("recording").filter(pk=stem_set_id).first()
    if stem_set is None:
        raise NotFound("Stem set not found.")
    if user_reads_everything(user):
        return stem_set
    if Remix.objects.filter(stem_set=stem_set, fan_id=user.pk).exists():
        return stem_set
    recording = stem_set.recording
    if recording is not None and user_can_edit_splits(user=user, recording=recording):
        return stem_set
    raise NotFound("Stem set not found.")


def stem_list(*, stem_set: StemSet) -> QuerySet[Stem]:
    return stem_set.stems.order_by("name")


def stem_names_for(*, stem_set: StemSet | None, recording: Recording | None = None) -> list[str]:
    """The stems a recipe may name. Before separation has finished they are
    the model's known sources (or the official stems' names)."""
    if stem_set is not None and stem_set.is_ready:
        return list(stem_set.stems.order_by("name").values_list("name", flat=True))
    if (stem_set is not None and stem_set.model_name == OFFICIAL_MODEL) or (
        stem_set is None
        and recording is not None
        and OfficialStem.objects.filter(recording=recording).exists()
    ):
        target = recording if recording is not None else stem_set.recording
        return sorted(OfficialStem.objects.filter(recording=target).values_list("name", flat=True))
    model = stem_set.model_name if stem_set is not None else None
    return sorted(MODEL_SOURCES.get(model or "", DEFAULT_SOURCES))


def stemset_structure(*, stem_set: StemSet | None) -> dict | None:
    """Beats, bars and sections of a stem set, once analysed (None before)."""
    if stem_set is None:
        return None
    row = StemSetStructure.objects.filter(stem_set=stem_set).only("data").first()
    return row.data if row is not None else None


def stemset_bars(*, stem_set: StemSet | None) -> list[float] | None:
    """Bar times an arrangement's boundaries must sit on (None: not analysed yet)."""
    found = stemset_structure(stem_set=stem_set)
    return list(found["bars_s"]) if found else None


def preset_list(*, stems: Sequence[str] | None = None) -> list[dict]:
    chosen = (
        engine_presets.presets_for(stems)
        if stems is not None
        else list(engine_presets.PRESETS.values())
    )
    return [{"slug": p.slug, "name": p.name, "description": p.description} for p in chosen]


def notice_list_unread(*, fan) -> QuerySet[RemixNotice]:
    return RemixNotice.objects.filter(fan=fan, read_at__isnull=True).select_related("remix")


def jobs_past_lease(*, grace_seconds: float = 120) -> dict[str, QuerySet]:
    """Jobs still "running" more than `grace_seconds` after their lease ran
    out: the sweep should have re-queued them, so each is an anomaly for the
    auditor (the sweep is not running, or keeps failing)."""
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    return {
        "stem_sets": StemSet.objects.filter(
            status=StemSet.Status.RUNNING, lease_expires_at__lt=cutoff
        ).order_by("lease_expires_at"),
        "remixes": Remix.objects.filter(
            status=Remix.Status.RENDERING, lease_expires_at__lt=cutoff
        ).order_by("lease_expires_at"),
    }


# --- The studio page ------------------------------------------------------------


def draft_for_recording(*, fan, recording: Recording) -> Remix | None:
    """The fan's most recently touched draft of `recording`, to reopen."""
    return (
        Remix.objects.filter(fan=fan, recording=recording, status=Remix.Status.DRAFT)
        .select_related("stem_set")
        .order_by("-updated_at", "-id")
        .first()
    )


def fork_draft_for(*, fan, parent: Remix) -> Remix | None:
    """The fan's open fork of `parent`: a draft, never paid for, that a new "Remix
    this remix" click reopens instead of starting yet another one."""
    if not getattr(fan, "pk", None):
        return None
    return (
        Remix.objects.filter(
            fan=fan, parent=parent, status=Remix.Status.DRAFT, paid_at__isnull=True
        )
        .order_by("-updated_at", "-id")
        .first()
    )


def suggestion_for(*, fan, stems: list[str], editing: Remix | None = None) -> dict:
    """ "Remix for me": a preset from the fan's own history (saved recipes and
    the moods of the tracks they remixed), oldest first so recent taste wins.

    Only remixes the fan actually shaped count: the draft being edited and
    drafts never touched (opened, nothing changed) are not history, so a
    brand-new fan is told it is a starting suggestion, not a habit."""
    history = []
    rows = (
        Remix.objects.filter(fan=fan)
        .exclude(pk=getattr(editing, "pk", None))
        .exclude(status=Remix.Status.DRAFT, preset="", recipe_version=1)
        .select_related("recording")
        .order_by("created_at", "id")
        .only("preset", "recipe", "recording__mood")[:200]
    )
    for remix in rows:
        choice = remix.preset or remix.recipe or {}
        history.append((choice, list(remix.recording.mood or [])))
    try:
        slug, reason = engine_presets.preset_suggest(history, stems=stems)
    except engine_presets.PresetError:
        return {}
    preset = engine_presets.PRESETS[slug]
    return {"slug": slug, "name": preset.name, "reason": reason}


def studio_stems(*, stem_set: StemSet | None, url: Callable[[FieldFile], str | None]) -> list[dict]:
    """What the studio loads of a ready stem set: its light streams (Ogg, and MP3
    where made) and waveform peaks, with `url` naming each file; never the
    lossless files. Empty until the set is ready."""
    if stem_set is None or not stem_set.is_ready:
        return []
    stems = []
    for stem in stem_list(stem_set=stem_set):
        mp3 = url(stem.preview_mp3)
        stems.append(
            {
                "name": stem.name,
                "url": url(stem.preview),
                "url_mp3": mp3,
                # The first seconds, preloaded by the page; the rest by a Range request.
                "url_head": f"{mp3}?head={STEM_PREVIEW_HEAD_BYTES}" if mp3 else None,
                "peaks": stem.peaks or None,
                "duration_s": stem.duration_s,
            }
        )
    return stems


def recording_remixability_require(*, recording: Recording):
    """Catalog's verdict on `recording` when it is remixable; else the one refusal every
    door of remixing gives (create, recipe save, Describe, stems, takes, render, publish):
    409 `not_remixable`, the request being valid but the terms in force refusing it now."""
    verdict = recording_remixability(recording=recording)
    if not verdict.remixable:
        raise Conflict(
            f"“{recording.title}” cannot be remixed right now. {verdict.why_not}".strip(),
            code=NOT_REMIXABLE,
            fields={"recording": [r.message for r in verdict.reasons] or ["Not remixable."]},
        )
    return verdict


def remix_describe(*, remix: Remix, text: str, recipe: dict | None = None) -> dict:
    """ "Describe your remix": the changes a sentence asks of this draft, checked against
    the track's stems and its rights holders' current terms. Nothing is saved: the studio
    shows the changes, the fan edits and applies them as one undoable edit.

    ``recipe`` is the studio's current (perhaps unsaved) recipe; the saved one otherwise."""
    recording = remix.recording
    verdict = recording_remixability_require(recording=recording)
    track = DescribedTrack(
        stems=stem_names_for(stem_set=remix.stem_set, recording=recording),
        tempo_bpm=recording.tempo_bpm,
        duration_s=recording.duration_ms / 1000 if recording.duration_ms else None,
    )
    try:
        result = engine_describe.describe(
            text, track=track, allowed=dict(verdict.terms), recipe=recipe or remix.recipe
        )
    except RecipeError as error:
        fields = {f"recipe.{path}" if path else "recipe": m for path, m in error.as_dict().items()}
        raise DomainError(
            "The current recipe is not valid for this track.", code="invalid_recipe", fields=fields
        ) from None
    return result.as_dict()


def remix_terms_refusal(*, remix: Remix, terms: dict) -> str:
    """Why the rights holders' current `terms` no longer allow this remix's recipe
    (a term it uses was switched off, e.g. covers), or "" when they do. Checked at
    every door after the draft: before payment, at render start, at job start."""
    stems = list(remix.recipe.get("stems") or {})
    try:
        recipe = recipe_validate(remix.recipe, stems=stems)
    except RecipeError as error:
        return f"This remix's recipe is no longer valid: {error}"
    forbidden = recipe_forbidden_transformations(recipe, allowed=terms, refusals=TERM_REFUSALS)
    if not forbidden:
        return ""
    reasons = list(dict.fromkeys(message for _, message in forbidden))
    return "The artist's terms changed: " + " ".join(reasons)


def cover_take_list(*, remix: Remix) -> QuerySet[CoverTake]:
    """The takes the fan recorded for this remix, oldest first."""
    return CoverTake.objects.filter(remix=remix).order_by("created_at", "id")


def cover_take_get_for_owner(*, ref: str, remix: Remix, user) -> CoverTake:
    take = CoverTake.objects.filter(remix=remix, ref=ref, fan_id=user.pk).first()
    if take is None:
        raise NotFound("Take not found.")
    return take


def remix_cover_performer(*, remix: Remix) -> str:
    """Who sang this remix's cover vocal (the fan, by public name), or "" without one.
    Remix pages, file tags and the audit trail all credit the cover through this."""
    ref = (remix.recipe.get("cover") or {}).get("take")
    if not ref:
        return ""
    take = CoverTake.objects.select_related("fan").filter(remix=remix, ref=ref).first()
    fan = take.fan if take is not None else remix.fan
    return user_public_name(fan, fallback="A Clearmix fan")
