"""Reads of the royalties app: payout dashboards, statements, platform totals.

Totals come from the accounts' balance rows (one row per account, kept by
every posting), histories from ledger entries and settlement lines, each page
in a fixed number of queries (no per-row queries).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from accounts.roles import user_is_auditor
from catalog.models import Party
from catalog.selectors import party_list_owned, user_owns_party

from . import ledger
from .labels import remix_labels
from .models import (
    AccountBalance,
    Entry,
    Payee,
    Reversal,
    Settlement,
    SettlementBlock,
    SettlementLine,
    Transfer,
)


def parties_claimed_by(user) -> list[Party]:
    return list(party_list_owned(user=user))


def party_visible_or_404(user, party_id: int) -> Party:
    """The claimant sees their party; staff auditors see any; anyone else a 404."""
    party = Party.objects.filter(pk=party_id).first()
    if party is None or not getattr(user, "is_authenticated", False):
        raise Http404("No such party")
    if user_is_auditor(user) or user_owns_party(user=user, party=party):
        return party
    raise Http404("No such party")


def party_is_own(user, party: Party) -> bool:
    """Party ownership is catalog's rule (a verified claim)."""
    return user_owns_party(user=user, party=party)


@dataclass
class Totals:
    currency: str
    earned: int = 0
    paid_out: int = 0
    owed: int = 0
    receivable: int = 0


@dataclass
class PartyPayouts:
    party: Party
    payee: Payee | None
    totals: list[Totals]
    by_recording: list[dict] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)


def _totals_for(party_ids: list[int]) -> dict[int, list[Totals]]:
    """Each party's totals per currency from its balance rows (one query).

    Per line, paid + owed + refunded - receivable = amount; so what a party has
    earned (net of refunds) is what it was paid plus what it is owed, less what
    it owes back."""
    out: dict[int, list[Totals]] = defaultdict(list)
    for party_id, by_currency in ledger.balances_by_party(party_ids).items():
        for currency, b in sorted(by_currency.items()):
            owed, paid, receivable = -b["payable"], -b["paid_out"], b["receivable"]
            out[party_id].append(
                Totals(
                    currency=currency,
                    earned=paid + owed - receivable,
                    paid_out=paid,
                    owed=owed,
                    receivable=receivable,
                )
            )
    return out


def payout_summaries(parties: list[Party]) -> list[dict]:
    totals = _totals_for([p.pk for p in parties])
    payees = {p.party_id: p for p in Payee.objects.filter(party__in=parties)}
    return [
        {"party": p, "totals": totals.get(p.pk, []), "payee": payees.get(p.pk)} for p in parties
    ]


def _status_of(line: SettlementLine, transfers: list[Transfer], payee: Payee | None) -> str:
    owed = line.owed_cents
    if transfers:
        latest = transfers[0]
        if latest.status in ("pending", "failed"):
            return latest.status
    if owed > 0:
        return "owed" if payee and payee.can_receive else "accruing"
    if line.receivable_cents - line.offset_cents > 0:
        return "receivable"
    if line.transferred_cents - line.reversed_cents > 0:
        return "paid"
    if line.refunded_cents and line.refunded_cents == line.amount_cents:
        return "refunded"
    return "paid" if line.amount_cents else "none"


def payouts_for_party(party: Party, *, limit: int = 200) -> PartyPayouts:
    payee = Payee.objects.filter(party=party).first()
    totals = _totals_for([party.pk]).get(party.pk, [])
    lines_qs = SettlementLine.objects.filter(party=party)
    by_recording = list(
        lines_qs.values(
            "settlement__recording_id", "settlement__recording__title", "settlement__currency"
        )
        .annotate(
            earned=Sum(F("amount_cents") - F("refunded_cents")),
            sales=Count("settlement_id", distinct=True),
            paid=Sum(F("transferred_cents") - F("reversed_cents")),
        )
        .order_by("-earned")
    )
    months: dict = defaultdict(lambda: {"earned": 0, "paid": 0})
    for r in (
        lines_qs.annotate(month=TruncMonth("settlement__created_at"))
        .values("month", "settlement__currency")
        .annotate(earned=Sum(F("amount_cents") - F("refunded_cents")))
    ):
        months[(r["month"].date(), r["settlement__currency"])]["earned"] += int(r["earned"] or 0)
    for r in (
        Entry.objects.filter(account__party=party, account__kind="paid_out")
        .annotate(month=TruncMonth("created_at"))
        .values("month", "currency")
        .annotate(s=Sum("amount_cents"))
    ):
        months[(r["month"].date(), r["currency"])]["paid"] += -int(r["s"] or 0)
    by_month = [{"month": m, "currency": cur, **vals} for (m, cur), vals in sorted(months.items())]
    lines = list(
        lines_qs.select_related("settlement", "settlement__recording").order_by(
            "-settlement__created_at", "-pk"
        )[:limit]
    )
    transfers: dict[int, list[Transfer]] = defaultdict(list)
    for tr in Transfer.objects.filter(line__in=lines).order_by("-seq"):
        transfers[tr.line_id].append(tr)
    labels = remix_labels(ln.settlement.remix_ref for ln in lines)
    rows = [
        {
            "line": ln,
            "settlement": ln.settlement,
            "remix": labels.get(ln.settlement.remix_ref)
            or f"Remix of {getattr(ln.settlement.recording, 'title', 'a recording')}",
            "status": _status_of(ln, transfers.get(ln.pk, []), payee),
            "transfers": transfers.get(ln.pk, []),
        }
        for ln in lines
    ]
    return PartyPayouts(party, payee, totals, by_recording, by_month, rows)


def month_chart(by_month: list[dict], *, width: int = 640, height: int = 200) -> dict | None:
    """Geometry for a server-rendered SVG bar chart (earned vs paid per month),
    for the first currency. Integers only; no chart library."""
    if not by_month:
        return None
    currency = by_month[0]["currency"]
    points = [m for m in by_month if m["currency"] == currency][-12:]
    top = max(max(p["earned"], p["paid"]) for p in points) or 1
    pad_l, pad_b, pad_t = 48, 24, 10
    plot_h = height - pad_b - pad_t
    slot = (width - pad_l) // len(points)
    bar = max(min(slot // 3, 28), 4)
    bars = []
    for i, p in enumerate(points):
        x = pad_l + i * slot + (slot - 2 * bar - 2) // 2
        eh = p["earned"] * plot_h // top
        ph = p["paid"] * plot_h // top
        bars.append(
            {
                "label": p["month"].strftime("%b %y"),
                "earned": p["earned"],
                "paid": p["paid"],
                "x_e": x,
                "y_e": pad_t + plot_h - eh,
                "h_e": eh,
                "x_p": x + bar + 2,
                "y_p": pad_t + plot_h - ph,
                "h_p": ph,
                "x_label": x + bar,
                "w": bar,
            }
        )
    return {
        "width": width,
        "height": height,
        "currency": currency,
        "bars": bars,
        "top": top,
        "axis_y": pad_t + plot_h,
        "pad_l": pad_l,
        "label_y": height - 6,
    }


def statement_rows(party: Party, *, start: date | None, end: date | None):
    """Ledger entries of the party's accounts in [start, end], oldest first."""
    qs = Entry.objects.filter(account__party=party)
    tz = timezone.get_current_timezone()
    if start:
        qs = qs.filter(created_at__gte=timezone.make_aware(datetime.combine(start, time.min), tz))
    if end:
        qs = qs.filter(created_at__lte=timezone.make_aware(datetime.combine(end, time.max), tz))
    return qs.select_related("transaction", "account", "line__settlement__recording").order_by(
        "created_at", "pk"
    )


def platform_totals() -> dict:
    by_cur: dict = defaultdict(dict)
    for r in Settlement.objects.values("currency").annotate(
        gross=Sum("gross_cents"), sales=Count("pk")
    ):
        by_cur[r["currency"]].update(gross=int(r["gross"]), sales=r["sales"])
    for cur, kind, cents in (
        AccountBalance.objects.values_list("account__currency", "account__kind")
        .annotate(s=Sum("balance_cents"))
        .values_list("account__currency", "account__kind", "s")
    ):
        by_cur[cur][kind] = int(cents or 0)
    rows = []
    for cur, v in sorted(by_cur.items()):
        rows.append(
            {
                "currency": cur,
                "sales": v.get("sales", 0),
                "gross": v.get("gross", 0),
                "cash": v.get("platform_cash", 0),
                "revenue": -v.get("platform_revenue", 0),
                "owed": -v.get("payable", 0),
                "paid_out": -v.get("paid_out", 0),
                "receivable": v.get("receivable", 0),
            }
        )
    return {
        "currencies": rows,
        "blocks": list(SettlementBlock.objects.filter(resolved_at__isnull=True)[:50]),
        "failed_transfers": Transfer.objects.filter(status="failed").count(),
        "pending_transfers": Transfer.objects.filter(status="pending").count(),
        "open_reversals": Reversal.objects.filter(Q(status="pending") | Q(status="failed")).count(),
        "payees_active": Payee.objects.filter(
            charges_enabled=True, payouts_enabled=True, transfers_active=True
        ).count(),
    }
