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
from django.views.decorators.http import require_POST, require_safe

from catalog.models import Recording
from catalog.selectors import recording_credits, recording_remixability
from catalog.terms import recipe_terms_refused
from core.errors import DomainError, NotFound
from core.refs import NOT_REMIXABLE
from remixing import selectors, services
from remixing.access import studio_blockers
from remixing.api_covers import take_data
from remixing.links import studio_links
from remixing.public_extras import public_extras
from remixing.published import published_cached
from remixing.services.previews import (
    recording_preview_request,
    stemset_light_streams_request,
)
from remixing.storage import media_url

from .models import Remix


def _blocked(request, *, title: str, reasons: list[dict], status: int, recording=None):
    return render(
        request,
        "remixing/blocked.html",
        {
            "title": title,
            "reasons": reasons,
            "recording": recording,
            "links": {
                "catalog": studio_links().catalog(),
                "track": studio_links().track(recording.pk) if recording else "",
                "my_remixes": studio_links().my_remixes(),
            },
        },
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
    ] or [{"code": NOT_REMIXABLE, "message": "This track cannot be remixed.", "fix_url": ""}]
    return _blocked(
        request,
        title=f"“{recording.title}” cannot be remixed right now",
        reasons=reasons,
        status=409,
        recording=recording,
    )


@login_required
@require_safe
@never_cache
@ensure_csrf_cookie
def studio_start(request, recording_id: int):
    """Open the fan's draft of this track, creating it on the first visit.

    The studio is rendered here, under this URL (no redirect hop before the
    first sound); the page then names its canonical URL, /studio/remixes/<id>/."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None:
        raise Http404("No such track.")
    blocked = _entitlement_block(request, recording)
    if blocked:
        return blocked
    verdict = recording_remixability(recording=recording)
    if not verdict.remixable:
        return _not_remixable(request, recording, verdict)
    draft = selectors.draft_for_recording(fan=request.user, recording=recording)
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
    draft.recording = recording  # already loaded: the page reads it again otherwise
    return _studio_page(request, draft, verdict)


def _studio_urls(remix: Remix) -> dict[str, str]:
    return {
        "recipe": f"/api/v1/remixes/{remix.pk}/recipe/",
        "status": f"/api/v1/remixes/{remix.pk}/status/",
        "describe": f"/api/v1/remixes/{remix.pk}/describe/",
        "takes": f"/api/v1/remixes/{remix.pk}/takes/",
        "stems": f"/api/v1/remixes/{remix.pk}/stems/",
        "presetRecipe": f"/api/v1/recordings/{remix.recording_id}/presets/__slug__/recipe/",
        "studio": reverse("remixing:studio", args=[remix.pk]),
        "remixPage": studio_links().my_remix(remix.pk),
        "export": studio_links().remix_export(remix.pk),
    }


def _studio_config(request, remix: Remix, verdict) -> dict:
    """What the studio script starts from (rendered into the page as JSON)."""
    stems = selectors.stem_names_for(stem_set=remix.stem_set, recording=remix.recording)
    terms = dict(verdict.terms)
    # A/B compares with the original's full-length lossy preview, never the master.
    original = recording_preview_request(recording=remix.recording)
    # Ready stems travel with the page (no API round trip before loading them),
    # and their streams are preloaded while the page's scripts load.
    studio_stems = selectors.studio_stems(stem_set=remix.stem_set, url=media_url)
    if studio_stems:
        stemset_light_streams_request(
            stem_set=remix.stem_set, stems=list(selectors.stem_list(stem_set=remix.stem_set))
        )
    return {
        "remixId": remix.pk,
        "stems": studio_stems,
        "stemsSource": remix.stem_set.source_label if studio_stems else "",
        "stemsModel": remix.stem_set.model_name if studio_stems else "",
        "recordingId": remix.recording_id,
        "title": remix.title,
        "recipe": remix.recipe,
        "recipeVersion": remix.recipe_version,
        "stemNames": stems,
        "terms": terms,
        "forbidden": recipe_terms_refused(terms),
        # Sing your own cover: the fan's takes of this remix (the studio is for
        # premium fans only, so the terms alone decide whether it is offered).
        "takes": [take_data(t) for t in selectors.cover_take_list(remix=remix)]
        if terms.get("covers") is True
        else [],
        "originalUrl": media_url(original.full) if original and original.is_ready else "",
        "durationS": (remix.recording.duration_ms or 0) / 1000 or None,
        "tempoBpm": remix.recording.tempo_bpm,
        "key": remix.recording.key,
        "presets": selectors.preset_list(stems=stems),
        "suggestion": selectors.suggestion_for(fan=request.user, stems=stems, editing=remix),
        "urls": _studio_urls(remix),
    }


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
                    "fix_url": studio_links().catalog(),
                }
            ],
            status=404,
        )
    blocked = _entitlement_block(request, remix.recording)
    if blocked:
        return blocked
    if remix.status != Remix.Status.DRAFT:
        # Paid remixes are not edited any more; their page shows the render.
        return redirect(studio_links().my_remix(remix.pk))
    verdict = recording_remixability(recording=remix.recording)
    if not verdict.remixable:
        return _not_remixable(request, remix.recording, verdict)
    return _studio_page(request, remix, verdict)


def _studio_page(request, remix: Remix, verdict):
    config = _studio_config(request, remix, verdict)
    studio_stems = config["stems"]
    return render(
        request,
        "remixing/studio.html",
        {
            "remix": remix,
            "credits": recording_credits(recording=remix.recording),
            "config": config,
            "forbidden": config["forbidden"],
            "stem_set": remix.stem_set,
            "stream_preloads": [s["url_head"] or s["url"] for s in studio_stems],
            "delivery": selectors.remix_delivery_readiness(remix=remix),
            "links": {"my_remixes": studio_links().my_remixes()},
        },
    )


def _published_page(share_slug: str) -> tuple | None:
    try:
        remix = selectors.remix_get_published(share_slug=share_slug)
    except NotFound:
        return None
    return (
        remix,
        selectors.remix_chain(remix=remix),
        recording_credits(recording=remix.recording),
        selectors.remix_cover_performer(remix=remix),
    )


def public_remix(request, share_slug: str):
    """The public page of a published remix: credits, player, plays, share link."""
    if request.user.is_authenticated:
        found = _published_page(share_slug)
    else:
        # The same for every visitor: cached exactly (remixing.published), so
        # an unpublished remix is gone at the commit that unpublished it.
        found = published_cached(
            name="remix-page", params=share_slug, compute=lambda: _published_page(share_slug)
        )
    if found is None:
        return _blocked(
            request,
            title="This remix is not available",
            reasons=[
                {
                    "code": "not_found",
                    "message": "It was never published, or it has been taken down.",
                    "fix_url": studio_links().catalog(),
                }
            ],
            status=404,
        )
    remix, chain, credits, cover_performer = found
    return render(
        request,
        "remixing/public.html",
        {
            "remix": remix,
            "chain": chain,
            "cover_performer": cover_performer,
            "is_author": request.user.is_authenticated and request.user.pk == remix.fan_id,
            "fork_draft": selectors.fork_draft_for(fan=request.user, parent=remix),
            "credits": credits,
            "share_url": request.build_absolute_uri(
                reverse("remixing:public_remix", args=[remix.share_slug])
            ),
            "links": {
                "track": studio_links().track(remix.recording_id),
                "embed": studio_links().embed(remix.share_slug),
            },
            "extras": public_extras(request=request, remix=remix),
        },
    )


@login_required
@require_POST
def remix_fork(request, share_slug: str):
    """Remix this remix: a draft from a published remix's recipe (the fan's open
    fork of it when there is one; `new=1` starts another)."""
    try:
        parent = selectors.remix_get_published(share_slug=share_slug)
    except NotFound:
        raise Http404("This remix is not available.") from None
    blocked = _entitlement_block(request, parent.recording)
    if blocked:
        return blocked
    try:
        draft = services.remix_fork(
            fan=request.user, parent=parent, new=request.POST.get("new") == "1"
        )
    except DomainError as error:
        return _blocked(
            request,
            title=f"“{parent.title}” cannot be remixed right now",
            reasons=[{"code": error.code, "message": error.message, "fix_url": ""}],
            status=error.status_code if error.status_code >= 400 else 409,
            recording=parent.recording,
        )
    return redirect("remixing:studio", remix_id=draft.pk)


@login_required
@require_POST
def remix_forks_allow(request, remix_id: int):
    """The author's opt-in: "allow others to build on this remix"."""
    try:
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
    except NotFound:
        raise Http404("Remix not found.") from None
    services.remix_forks_allow(
        remix=remix, fan=request.user, allow=request.POST.get("allow_forks") == "on"
    )
    return redirect("remixing:public_remix", share_slug=remix.share_slug)


# Old name, kept for links made before the page was renamed.
shared = public_remix
