"""Payout pages: thin views over royalties.selectors and royalties.services."""

from __future__ import annotations

import csv
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import user_is_auditor
from core.errors import DomainError
from core.money import format_money

from . import selectors
from .services import payees


@login_required
@require_GET
def payouts(request):
    parties = selectors.parties_claimed_by(request.user)
    context = {
        "summaries": selectors.payout_summaries(parties),
        "platform": selectors.platform_totals() if user_is_auditor(request.user) else None,
    }
    if len(parties) == 1 and not user_is_auditor(request.user):
        return party_detail(request, parties[0].pk)
    return render(request, "royalties/payouts.html", context)


@login_required
@require_GET
def party_detail(request, party_id: int):
    party = selectors.party_visible_or_404(request.user, party_id)
    data = selectors.payouts_for_party(party)
    return render(
        request,
        "royalties/party.html",
        {
            "p": data,
            "chart": selectors.month_chart(data.by_month),
            "own": selectors.party_is_own(request.user, party),
            "today": date.today().isoformat(),
        },
    )


def _abs(request, name: str, party_id: int) -> str:
    return request.build_absolute_uri(reverse(name, args=[party_id]))


@login_required
@require_POST
def connect_start(request, party_id: int):
    party = selectors.party_visible_or_404(request.user, party_id)
    if not selectors.party_is_own(request.user, party):
        # Auditors can read a party's page, never onboard for it.
        return redirect("royalties:party", party_id=party.pk)
    try:
        url = payees.payee_onboarding_link(
            party=party,
            user=request.user,
            return_url=_abs(request, "royalties:connect-return", party.pk),
            refresh_url=_abs(request, "royalties:connect-refresh", party.pk),
        )
    except Exception as exc:
        messages.error(request, f"Stripe onboarding is unavailable right now ({exc}).")
        return redirect("royalties:party", party_id=party.pk)
    return HttpResponseRedirect(url)


@login_required
@require_GET
def connect_return(request, party_id: int):
    party = selectors.party_visible_or_404(request.user, party_id)
    try:
        payee = payees.payee_refresh(party=party)
    except Exception:
        payee = None
    if payee is not None and payee.can_receive:
        # payee_apply_account queued the sweep of what is owed.
        messages.success(request, "Your payout account is active: what you are owed is on its way.")
    else:
        messages.info(request, "Thanks! Stripe is still reviewing your details.")
    return redirect("royalties:party", party_id=party.pk)


@login_required
@require_GET
def connect_refresh(request, party_id: int):
    party = selectors.party_visible_or_404(request.user, party_id)
    if not selectors.party_is_own(request.user, party):
        return redirect("royalties:party", party_id=party.pk)
    try:
        url = payees.payee_onboarding_link(
            party=party,
            user=request.user,
            return_url=_abs(request, "royalties:connect-return", party.pk),
            refresh_url=_abs(request, "royalties:connect-refresh", party.pk),
        )
    except Exception as exc:
        messages.error(request, f"Stripe onboarding is unavailable right now ({exc}).")
        return redirect("royalties:party", party_id=party.pk)
    return HttpResponseRedirect(url)


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise DomainError("Dates are YYYY-MM-DD.", fields={"date": value}) from exc


@login_required
@require_GET
def statement_csv(request, party_id: int):
    party = selectors.party_visible_or_404(request.user, party_id)
    try:
        start = _parse_date(request.GET.get("start"))
        end = _parse_date(request.GET.get("end"))
    except DomainError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"clearmix-statement-party{party.pk}-{start or 'start'}-{end or 'today'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    w = csv.writer(response)
    w.writerow(
        [
            "date",
            "transaction",
            "reason",
            "order",
            "remix",
            "recording",
            "side",
            "account",
            "ledger_cents",
            "party_cents",
            "currency",
            "party_amount",
        ]
    )
    for e in selectors.statement_rows(party, start=start, end=end).iterator():
        s = e.line.settlement if e.line_id else None
        w.writerow(
            [
                e.created_at.isoformat(),
                e.transaction_id,
                e.transaction.reason,
                s.order_ref if s else e.transaction.ref,
                s.remix_ref if s else "",
                _csv_safe(s.recording.title) if s and s.recording_id else "",
                e.line.kind if e.line_id else "",
                e.account.kind,
                e.amount_cents,
                -e.amount_cents,
                e.currency,
                format_money(-e.amount_cents, e.currency, with_code=True),
            ]
        )
    return response


def _csv_safe(text: str) -> str:
    # Spreadsheet formula injection: a title must never start a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
