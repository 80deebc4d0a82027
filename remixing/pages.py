"""Reads that only the studio pages need (kept apart from the API's selectors)."""

from __future__ import annotations

from catalog.models import Recording
from remixing.engine import presets as engine_presets
from remixing.engine.recipe import RECIPE_TERMS

from .models import Remix


def draft_for_recording(*, fan, recording: Recording) -> Remix | None:
    """The fan's most recently touched draft of `recording`, to reopen."""
    return (
        Remix.objects.filter(fan=fan, recording=recording, status=Remix.Status.DRAFT)
        .order_by("-updated_at", "-id")
        .first()
    )


def suggestion_for(*, fan, stems: list[str]) -> dict:
    """ "Remix for me": a preset from the fan's own history (saved recipes and
    the moods of the tracks they remixed), oldest first so recent taste wins."""
    history = []
    rows = (
        Remix.objects.filter(fan=fan)
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


TERM_CONTROL_LABELS = {
    "stem_volume": "Stem volume, mute and solo",
    "tempo": "Tempo",
    "key": "Key",
    "effects": "Effects",
    "vocals_removed": "Removing the vocals",
    "vocals_isolated": "Isolating the vocals",
}


def forbidden_terms(terms: dict) -> dict[str, str]:
    """{term: reason} for each recipe term the rights holders do not allow."""
    return {
        term: f"{TERM_CONTROL_LABELS[term]} is not allowed by the artist's terms."
        for term in RECIPE_TERMS
        if terms.get(term) is not True
    }
