"""Reads for remixing: remixes, stem sets, stems, presets, notices."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from catalog.errors import NotFound
from catalog.models import OfficialStem, Recording
from remixing.engine import presets as engine_presets

from .models import OFFICIAL_MODEL, Remix, RemixEvent, RemixNotice, Stem, StemSet

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
    remix = (
        Remix.objects.select_related("recording", "fan")
        .filter(share_slug=share_slug, status=Remix.Status.PUBLISHED)
        .first()
    )
    if remix is None:
        raise NotFound("Remix not found.")
    return remix


def remix_list_published(*, recording: Recording | None = None) -> QuerySet[Remix]:
    qs = Remix.objects.filter(status=Remix.Status.PUBLISHED).select_related("recording", "fan")
    if recording is not None:
        qs = qs.filter(recording=recording)
    return qs.order_by("-published_at", "-id")


def remix_history(*, remix: Remix) -> QuerySet[RemixEvent]:
    """The remix's whole story, oldest first, for auditors."""
    return remix.events.select_related("actor", "consent_event").order_by("created_at", "id")


def stemset_current_for_recording(*, recording: Recording) -> StemSet | None:
    """The stem set a remix of `recording` would use now, if one exists
    (no side effects: the service `stemset_for_recording` creates one)."""
    from .services.stems import stemset_key_for_recording

    key = stemset_key_for_recording(recording=recording, compute=False)
    if key is None:
        return None
    sha, model = key
    return StemSet.objects.filter(audio_sha256=sha, model_name=model).first()


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


def preset_list(*, stems: Sequence[str] | None = None) -> list[dict]:
    chosen = (
        engine_presets.presets_for(stems)
        if stems is not None
        else list(engine_presets.PRESETS.values())
    )
    return [{"slug": p.slug, "name": p.name, "description": p.description} for p in chosen]


def notice_list_unread(*, fan) -> QuerySet[RemixNotice]:
    return RemixNotice.objects.filter(fan=fan, read_at__isnull=True).select_related("remix")
