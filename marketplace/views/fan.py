"""The fan's own pages: My remixes, one remix (export, render progress,
downloads, publish, unpublish).

Marketplace sits on top, so it is here that a paid export is started and that
the studio learns who is entitled (see `_studio_gate`).
"""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from catalog.identifiers import row_id_or_none
from catalog.selectors import recording_credits, recording_remixability
from core.errors import DomainError, NotFound
from marketplace.billing.entitlements import fan_entitlement
from marketplace.billing.reconcile import order_reconcile_on_return
from marketplace.billing.services.orders import order_checkout_start
from marketplace.media import MediaFileMissing, media_file_read
from marketplace.models import Order
from remixing import selectors as remix_selectors
from remixing import services as remix_services
from remixing.models import Remix

PAID_STATUSES = ("queued", "separating", "rendering", "ready", "failed", "cancelled")


def _own_remix(request: HttpRequest, remix_id: int) -> Remix:
    try:
        return remix_selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
    except NotFound:
        raise Http404("This remix does not exist or belongs to someone else.") from None


@login_required
@never_cache
def my_remixes(request: HttpRequest) -> HttpResponse:
    remixes = list(remix_selectors.remix_list_for_fan(fan=request.user).order_by("-updated_at"))
    groups = {
        "drafts": [r for r in remixes if r.status == Remix.Status.DRAFT],
        "paid": [r for r in remixes if r.status in PAID_STATUSES],
        "published": [r for r in remixes if r.status == Remix.Status.PUBLISHED],
    }
    return render(
        request,
        "marketplace/fan/my_remixes.html",
        {
            "groups": groups,
            "total": len(remixes),
            "notices": list(remix_selectors.notice_list_unread(fan=request.user)[:20]),
            "entitlement": fan_entitlement(user=request.user),
        },
    )


@login_required
@require_POST
def notices_mark_read(request: HttpRequest) -> HttpResponse:
    given = [row_id_or_none(value) for value in request.POST.getlist("notice")]
    ids = [notice_id for notice_id in given if notice_id is not None] or None
    remix_services.remix_notice_mark_read(fan=request.user, notice_ids=ids)
    return redirect("marketplace:my_remixes")


@login_required
@never_cache
def my_remix(request: HttpRequest, remix_id: int) -> HttpResponse:
    remix = _own_remix(request, remix_id)
    verdict = recording_remixability(recording=remix.recording)
    order = Order.objects.filter(remix=remix).order_by("-created_at", "-id").first()
    returning = bool(request.GET.get("session_id"))
    if returning and order is not None and order.status == Order.Status.PENDING:
        # Back from Checkout: ask Stripe now rather than wait for the webhook.
        order = order_reconcile_on_return(order=order)
    return render(
        request,
        "marketplace/fan/remix_detail.html",
        {
            "remix": remix,
            "credits": recording_credits(recording=remix.recording),
            "chain": remix_selectors.remix_chain(remix=remix),
            "cover_performer": remix_selectors.remix_cover_performer(remix=remix),
            "order": order,
            "returning": returning,
            "remixable": verdict.remixable,
            "why_not": verdict.why_not,
            "can_publish": verdict.remixable and verdict.terms.get("publication") is True,
            "share_url": request.build_absolute_uri(
                reverse("remixing:public_remix", args=[remix.share_slug])
            ),
            "entitlement": fan_entitlement(user=request.user),
            "delivery": remix_selectors.remix_delivery_readiness(remix=remix),
            # Listed here too: the studio closes with the track, the fan's data stays theirs.
            "takes": list(remix_selectors.cover_take_list(remix=remix)),
        },
    )


@login_required
@require_POST
def remix_export(request: HttpRequest, remix_id: int) -> HttpResponse:
    """ "Export remix": pay on Stripe Checkout, come back to this remix's page."""
    remix = _own_remix(request, remix_id)
    page = request.build_absolute_uri(reverse("marketplace:my_remix", args=[remix.pk]))
    try:
        order = order_checkout_start(
            fan=request.user,
            remix=remix,
            success_url=page + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=page + "?cancelled=1",
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("marketplace:my_remix", remix_id=remix.pk)
    return redirect(order.checkout_url)


@login_required
@require_POST
def remix_publish(request: HttpRequest, remix_id: int) -> HttpResponse:
    remix = _own_remix(request, remix_id)
    try:
        remix_services.remix_publish(
            remix=remix,
            fan=request.user,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("marketplace:my_remix", remix_id=remix.pk)
    messages.success(request, "Your remix is live. Share the link!")
    return redirect("marketplace:my_remix", remix_id=remix.pk)


@login_required
@require_POST
def remix_unpublish(request: HttpRequest, remix_id: int) -> HttpResponse:
    remix = _own_remix(request, remix_id)
    try:
        remix_services.remix_unpublish(remix=remix, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your remix is no longer public.")
    return redirect("marketplace:my_remix", remix_id=remix.pk)


@login_required
@require_POST
def remix_take_delete(request: HttpRequest, remix_id: int, ref: str) -> HttpResponse:
    """Delete one of the fan's recorded takes, also when the studio is closed."""
    remix = _own_remix(request, remix_id)
    takes = list(remix_selectors.cover_take_list(remix=remix))
    number = next((n for n, take in enumerate(takes, 1) if take.ref == ref), None)
    if number is None:
        raise Http404("No such take.")
    try:
        remix_services.cover_take_delete(take=takes[number - 1], fan=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Take {number} deleted.")
    return redirect("marketplace:my_remix", remix_id=remix.pk)


@login_required
def remix_download(request: HttpRequest, remix_id: int, fmt: str) -> HttpResponse:
    """The rendered file, to its owner only, as an attachment."""
    remix = _own_remix(request, remix_id)
    field = {"mp3": remix.output_mp3, "ogg": remix.output_ogg}.get(fmt)
    if not field or remix.status not in (Remix.Status.READY, Remix.Status.PUBLISHED):
        raise Http404("No such file.")
    name = f"{(remix.title or 'remix').replace('/', '-')}.{fmt}"
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        handle = media_file_read(field)  # never through a symlink out of its file
    except MediaFileMissing:
        raise Http404("No such file.") from None
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
