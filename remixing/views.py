"""Pages of the studio: thin, like the API views.

Every refusal is a page that says why and what to do next (never a stack
trace): a track that cannot be remixed, a remix that is not yours, a fan
without the subscriptions the studio needs.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from catalog.errors import DomainError, NotFound
from catalog.models import Recording
from catalog.selectors import recording_credits, recording_remixability
from remixing import pages, selectors, services
from remixing.access import studio_blockers

from .models import Remix


def _blocked(request, *, title: str, reasons: list[dict], status: int, recording=None):
    return render(
        request,
        "remixing/blocked.html",
        {"title": title, "reasons": reasons, "recording": recording},
        status=status,
    )


def _entitlement_block(request, recording=None):
    blockers = studio_blockers(user=request.user)
    if blockers:
        return _blocked(
            request,
            title="The studio needs Premium and the Remix add-on",
            reasons=blockers,
            status=403,
            recording=recording,
        )
    return None


def _not_remixable(request, recording, verdict):
    reasons = [
        {"code": r.code, "message": r.message, "fix_url": ""}
        for r in getattr(verdict, "reasons", [])
    ] or [{"code": "not_remixable", "message": "This track cannot be remixed.", "fix_url": ""}]
    return _blocked(
        request,
        title=f"“{recording.title}” cannot be remixed right now",
        reasons=reasons,
        status=409,
        recording=recording,
    )


@login_required
def studio_start(request, recording_id: int):
    """Open the fan's draft of this track, creating it on the first visit."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None:
        raise Http404("No such track.")
    blocked = _entitlement_block(request, recording)
    if blocked:
        return blocked
    verdict = recording_remixability(recording=recording)
    if not verdict.remixable:
        return _not_remixable(request, recording, verdict)
    draft = pages.draft_for_recording(fan=request.user, recording=recording)
    if draft is None:
        try:
            draft = services.remix_create(fan=request.user, recording=recording)
        except DomainError as error:
            return _blocked(
                request,
                title=f"We could not open the studio for “{recording.title}”",
                reasons=[{"code": error.code, "message": error.message, "fix_url": ""}],
                status=409,
                recording=recording,
            )
    return redirect("remixing:studio", remix_id=draft.pk)


@login_required
@never_cache
@ensure_csrf_cookie
def studio(request, remix_id: int):
    try:
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
    except NotFound:
        return _blocked(
            request,
            title="Remix not found",
            reasons=[
                {
                    "code": "not_found",
                    "message": "This remix does not exist or belongs to someone else.",
                    "fix_url": reverse("marketplace:catalog"),
                }
            ],
            status=404,
        )
    blocked = _entitlement_block(request, remix.recording)
    if blocked:
        return blocked
    if remix.status != Remix.Status.DRAFT:
        # Paid remixes are not edited any more; their page shows the render.
        return redirect("marketplace:my_remix", remix_id=remix.pk)
    verdict = recording_remixability(recording=remix.recording)
    if not verdict.remixable:
        return _not_remixable(request, remix.recording, verdict)
    stems = selectors.stem_names_for(stem_set=remix.stem_set, recording=remix.recording)
    terms = dict(verdict.terms)
    config = {
        "remixId": remix.pk,
        "recordingId": remix.recording_id,
        "title": remix.title,
        "recipe": remix.recipe,
        "recipeVersion": remix.recipe_version,
        "stemNames": stems,
        "terms": terms,
        "forbidden": pages.forbidden_terms(terms),
        "originalUrl": remix.recording.audio.url if remix.recording.audio else "",
        "durationS": (remix.recording.duration_ms or 0) / 1000 or None,
        "tempoBpm": remix.recording.tempo_bpm,
        "key": remix.recording.key,
        "presets": selectors.preset_list(stems=stems),
        "suggestion": pages.suggestion_for(fan=request.user, stems=stems),
        "urls": {
            "recipe": f"/api/v1/remixes/{remix.pk}/recipe/",
            "status": f"/api/v1/remixes/{remix.pk}/status/",
            "stems": f"/api/v1/remixes/{remix.pk}/stems/",
            "presetRecipe": f"/api/v1/recordings/{remix.recording_id}/presets/__slug__/recipe/",
            "remixPage": reverse("marketplace:my_remix", args=[remix.pk]),
            "export": reverse("marketplace:remix_export", args=[remix.pk]),
        },
    }
    return render(
        request,
        "remixing/studio.html",
        {
            "remix": remix,
            "credits": recording_credits(recording=remix.recording),
            "config": config,
            "forbidden": config["forbidden"],
            "stem_set": remix.stem_set,
        },
    )


def public_remix(request, share_slug: str):
    """The public page of a published remix: credits, player, plays, share link."""
    try:
        remix = selectors.remix_get_published(share_slug=share_slug)
    except NotFound:
        return _blocked(
            request,
            title="This remix is not available",
            reasons=[
                {
                    "code": "not_found",
                    "message": "It was never published, or it has been taken down.",
                    "fix_url": reverse("marketplace:catalog"),
                }
            ],
            status=404,
        )
    return render(
        request,
        "remixing/public.html",
        {
            "remix": remix,
            "credits": recording_credits(recording=remix.recording),
            "share_url": request.build_absolute_uri(
                reverse("remixing:public_remix", args=[remix.share_slug])
            ),
        },
    )


# Old name, kept for links made before the page was renamed.
shared = public_remix
