"""Billing pages: pricing, subscribe, success polling, billing, remix purchase.

Thin: parse input, call one service or selector, render. DomainError becomes a
message on the page (or the one JSON error shape for the polling endpoints).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from marketplace.billing import selectors
from marketplace.billing.entitlements import fan_entitlement
from marketplace.billing.money import money_display
from marketplace.billing.reconcile import (
    order_reconcile_on_return,
    subscription_checkout_reconcile_on_return,
)
from marketplace.billing.remixes import remix_get
from marketplace.billing.services.orders import order_checkout_start
from marketplace.billing.services.subscription_checkout import subscription_checkout_start
from marketplace.billing.services.subscriptions import subscription_cancel_at_period_end_set
from marketplace.models import WebhookEvent


def _absolute(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _safe_next(request: HttpRequest) -> str | None:
    """The "next" page if it is one of ours; never another site (open redirect)."""
    target = (request.POST.get("next") or "").strip()
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target.startswith("/") and allowed else None


def pricing(request: HttpRequest) -> HttpResponse:
    offers, entitlement = selectors.plan_list_for_pricing(user=request.user)
    return render(
        request,
        "marketplace/billing/pricing.html",
        {
            "offers": offers,
            "entitlement": entitlement,
            "remix_price": money_display(settings.REMIX_PRICE_CENTS, settings.STRIPE_CURRENCY),
        },
    )


@login_required
@require_POST
def subscribe(request: HttpRequest, plan_code: str) -> HttpResponse:
    # Stripe substitutes {CHECKOUT_SESSION_ID}; the braces must survive unescaped.
    success_url = (
        _absolute(request, "marketplace:checkout_success") + "?session_id={CHECKOUT_SESSION_ID}"
    )
    try:
        attempt = subscription_checkout_start(
            user=request.user,
            plan_code=plan_code,
            success_url=success_url,
            cancel_url=_absolute(request, "marketplace:checkout_cancelled"),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("marketplace:pricing")
    return redirect(attempt.checkout_url)


@login_required
@never_cache
def checkout_success(request: HttpRequest) -> HttpResponse:
    session_id = request.GET.get("session_id", "")
    # Ask Stripe at once: a lost webhook must not leave the fan unsubscribed.
    subscription_checkout_reconcile_on_return(user=request.user, session_id=session_id)
    try:
        status = selectors.checkout_status(user=request.user, session_id=session_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("marketplace:billing")
    return render(
        request,
        "marketplace/billing/checkout_success.html",
        {"status": status, "session_id": session_id},
    )


@login_required
@never_cache
@require_GET
def checkout_status(request: HttpRequest) -> JsonResponse:
    try:
        status = selectors.checkout_status(
            user=request.user, session_id=request.GET.get("session_id", "")
        )
    except DomainError as error:
        return JsonResponse({"error": error.as_dict()}, status=error.status_code)
    return JsonResponse(status)


@login_required
def checkout_cancelled(request: HttpRequest) -> HttpResponse:
    messages.info(request, "Checkout was cancelled. You have not been charged.")
    return redirect("marketplace:pricing")


@login_required
@never_cache
def billing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "marketplace/billing/billing.html",
        {
            "subscriptions": selectors.subscription_list_for_user(user=request.user),
            "orders": selectors.order_list_for_fan(fan=request.user)[:50],
            "entitlement": fan_entitlement(user=request.user),
        },
    )


@login_required
@require_POST
def subscription_cancel_toggle(request: HttpRequest, subscription_id: int) -> HttpResponse:
    cancel = request.POST.get("cancel_at_period_end") == "1"
    try:
        subscription = selectors.subscription_get_for_user(
            user=request.user, subscription_id=subscription_id
        )
        subscription_cancel_at_period_end_set(subscription=subscription, cancel=cancel)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if cancel:
            messages.success(
                request, f"{subscription.plan.name} will end at the close of this period."
            )
        else:
            messages.success(request, f"{subscription.plan.name} will renew as usual.")
    return redirect("marketplace:billing")


@login_required
@require_POST
def order_start(request: HttpRequest, remix_id: int) -> HttpResponse:
    try:
        remix = remix_get(remix_id=remix_id)
        order = order_checkout_start(
            fan=request.user,
            remix=remix,
            success_url=_absolute(request, "marketplace:order_return")
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=_absolute(request, "marketplace:billing"),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_safe_next(request) or "marketplace:billing")
    return redirect(order.checkout_url)


@login_required
def order_return(request: HttpRequest) -> HttpResponse:
    """Stripe's success redirect: find the order and ask Stripe about its
    session (a lost webhook must not leave it pending); its page then shows
    the render's progress."""
    try:
        order = selectors.order_get_for_session(
            fan=request.user, session_id=request.GET.get("session_id", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("marketplace:billing")
    order_reconcile_on_return(order=order)
    return redirect("marketplace:order_detail", order_id=order.pk)


@login_required
@never_cache
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = selectors.order_get_for_fan(fan=request.user, order_id=order_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("marketplace:billing")
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(selectors.order_status(order=order))
    return render(request, "marketplace/billing/order_detail.html", {"order": order})


@staff_member_required
@never_cache
def webhook_events(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    counts = selectors.webhook_event_counts()
    return render(
        request,
        "marketplace/billing/webhook_events.html",
        {
            "events": selectors.webhook_event_list(status=status),
            "statuses": [
                (value, label, counts.get(value, 0)) for value, label in WebhookEvent.Status.choices
            ],
            "current_status": status,
        },
    )
