"""Reads for the audit pages: a remix's whole licensing story, remix search,
the per-artist licensing report, the staff audit log."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Count,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from catalog.models import (
    ConsentEvent,
    Party,
    Recording,
    RecordingArtist,
    SplitShare,
    SplitVersion,
    StaffAuditEntry,
    Takedown,
)
from catalog.selectors import consent_effective, recording_credits, recording_remixability
from catalog.terms import TERM_LABELS
from marketplace.models import Order, WebhookEvent
from remixing.models import Remix
from remixing.selectors import remix_history
from royalties.models import Payee, Reversal, Settlement, SettlementBlock, SettlementLine, Transfer

from .links import record_url

STATUS_BADGE = {
    "ok": "badge-ok",
    "bad": "badge-bad",
    "warn": "badge-warn",
    "muted": "badge-muted",
}


@dataclass
class TrailItem:
    when: datetime | None
    category: str  # consent, split, recipe, job, order, payment, settlement, ...
    title: str
    detail: str = ""
    status: str = "muted"  # ok / bad / warn / muted, for the badge
    status_label: str = ""
    url: str | None = None
    link_label: str = ""


@dataclass
class ConsentBasis:
    event: ConsentEvent
    stands: bool
    now: str  # how it stands now, in words
    current_event_id: int | None


@dataclass
class PartyMoney:
    party: Party
    kind: str
    amount_cents: int = 0
    refunded_cents: int = 0
    paid_cents: int = 0
    owed_cents: int = 0
    receivable_cents: int = 0
    currency: str = ""
    payee_status: str = "not_started"


@dataclass
class RemixTrail:
    remix: Remix
    credits: object
    remixability_now: object
    consent: list[ConsentBasis]
    takedowns: list[Takedown]
    splits: list[SplitVersion]
    orders: list[Order]
    settlements: list[Settlement]
    blocks: list[SettlementBlock]
    money: list[PartyMoney]
    staff_entries: list[StaffAuditEntry]
    items: list[TrailItem] = field(default_factory=list)
    recipe_json: str = ""
    rendered_recipe_json: str = ""
    terms: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def licensed(self) -> bool:
        return bool(self.consent) and all(c.event.kind != "revoke" for c in self.consent)

    @property
    def consent_still_stands(self) -> bool:
        return bool(self.consent) and all(c.stands for c in self.consent)


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency.upper()}"


def remix_for_trail(*, remix_id: int) -> Remix:
    return (
        Remix.objects.select_related(
            "recording",
            "recording__work",
            "fan",
            "stem_set",
            "master_split_version",
            "publishing_split_version",
        )
        .prefetch_related("recording__artists__party", "recording__work__writers__party")
        .get(pk=remix_id)
    )


def _consent_basis(remix: Remix) -> list[ConsentBasis]:
    events = list(
        remix.consent_events.select_related("party", "actor", "recording").order_by("seq")
    )
    basis = []
    for event in events:
        if event.party_id is None:
            basis.append(ConsentBasis(event, True, "Staff event", None))
            continue
        # A handful of parties per remix: one small query each is fine here.
        effective = consent_effective(party=event.party, recording=remix.recording)
        if not effective.granted:
            now = "Revoked since" if effective.event_id else "Never granted"
            stands = False
        elif effective.event_id == event.pk:
            now, stands = "Still in force", True
        else:
            now, stands = "Still granted (restated since)", True
        basis.append(ConsentBasis(event, stands, now, effective.event_id))
    return basis


def remix_trail(*, remix_id: int) -> RemixTrail:
    """Everything about one remix, each item linked to its source record,
    with a single chronological story built from all of it."""
    remix = remix_for_trail(remix_id=remix_id)
    recording = remix.recording
    consent = _consent_basis(remix)
    takedowns = list(
        Takedown.objects.filter(recording=recording).select_related(
            "placed_event__actor", "lifted_event__actor"
        )
    )
    split_ids = [i for i in (remix.master_split_version_id, remix.publishing_split_version_id) if i]
    orders = list(remix.orders.select_related("fan").order_by("created_at", "id"))
    refs = [f"order_{o.pk}" for o in orders]
    settlements = list(
        Settlement.objects.filter(Q(order_ref__in=refs) | Q(remix_ref=f"remix_{remix.pk}"))
        .select_related("transaction")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=SettlementLine.objects.select_related("party").prefetch_related(
                    Prefetch(
                        "transfers",
                        queryset=Transfer.objects.order_by("created_at", "id").prefetch_related(
                            Prefetch("reversals", queryset=Reversal.objects.order_by("id"))
                        ),
                    )
                ),
            ),
            "refunds__lines",
        )
        .order_by("created_at", "id")
    )
    for s in settlements:
        split_ids += [s.master_split_version_id, s.publishing_split_version_id]
    splits = list(
        SplitVersion.objects.filter(pk__in=set(split_ids))
        .select_related("recording", "work")
        .prefetch_related(Prefetch("shares", queryset=SplitShare.objects.select_related("party")))
        .order_by("side", "number")
    )
    blocks = list(SettlementBlock.objects.filter(order_ref__in=refs))
    stripe_ids = {
        value
        for o in orders
        for value in (
            o.stripe_checkout_session_id,
            o.stripe_payment_intent_id,
            o.stripe_charge_id,
            o.stripe_refund_id,
            o.stripe_dispute_id,
        )
        if value
    }
    webhooks = list(
        WebhookEvent.objects.filter(object_id__in=stripe_ids)
        .only("id", "stripe_event_id", "type", "status", "received_at", "object_id")
        .order_by("received_at")
    )
    staff_entries = list(
        StaffAuditEntry.objects.filter(
            Q(subject_type="remix", subject_id=str(remix.pk))
            | Q(subject_type="order", subject_id__in=[str(o.pk) for o in orders])
            | Q(subject_type="recording", subject_id=str(recording.pk))
        )
        .select_related("actor")
        .order_by("seq")
    )
    lines = [line for s in settlements for line in s.lines.all()]
    payees = {
        p.party_id: p for p in Payee.objects.filter(party_id__in={line.party_id for line in lines})
    }
    money: dict[tuple[int, str], PartyMoney] = {}
    for s in settlements:
        for line in s.lines.all():
            if line.party_id is None:
                continue
            entry = money.setdefault(
                (line.party_id, line.kind),
                PartyMoney(line.party, line.get_kind_display(), currency=s.currency),
            )
            entry.amount_cents += line.amount_cents
            entry.refunded_cents += line.refunded_cents
            entry.paid_cents += line.transferred_cents - line.reversed_cents
            entry.owed_cents += line.owed_cents
            entry.receivable_cents += line.receivable_cents - line.offset_cents
            payee = payees.get(line.party_id)
            entry.payee_status = payee.status if payee else "not_started"

    trail = RemixTrail(
        remix=remix,
        credits=recording_credits(recording=recording),
        remixability_now=recording_remixability(recording=recording),
        consent=consent,
        takedowns=takedowns,
        splits=splits,
        orders=orders,
        settlements=settlements,
        blocks=blocks,
        money=list(money.values()),
        staff_entries=staff_entries,
        recipe_json=json.dumps(remix.recipe, indent=2, sort_keys=True),
        rendered_recipe_json=(
            json.dumps(remix.rendered_recipe, indent=2, sort_keys=True)
            if remix.rendered_recipe
            else ""
        ),
        terms=[(TERM_LABELS.get(k, k), bool(v)) for k, v in sorted((remix.terms or {}).items())],
    )
    trail.items = _trail_items(trail, webhooks)
    return trail


def _trail_items(trail: RemixTrail, webhooks: list[WebhookEvent]) -> list[TrailItem]:
    remix = trail.remix
    items: list[TrailItem] = []
    add = items.append
    for basis in trail.consent:
        event = basis.event
        scope = event.recording.title if event.recording_id else "whole catalog"
        who = event.party.name if event.party_id else "staff"
        add(
            TrailItem(
                event.created_at,
                "consent",
                f"{event.get_kind_display()} by {who} ({scope})",
                f"Consent event #{event.seq}, hash {event.hash[:12]}…; relied on by this remix. "
                f"Now: {basis.now}.",
                "ok" if basis.stands else "bad",
                "stands" if basis.stands else "no longer stands",
                record_url(event),
                f"Consent event #{event.seq}",
            )
        )
    for takedown in trail.takedowns:
        add(
            TrailItem(
                takedown.placed_at,
                "takedown",
                "Track taken down by staff",
                takedown.reason,
                "bad" if takedown.in_force else "muted",
                "in force" if takedown.in_force else "lifted",
                record_url(takedown.placed_event),
                f"Consent event #{takedown.placed_event.seq}",
            )
        )
        if takedown.lifted_event_id:
            add(
                TrailItem(
                    takedown.lifted_at,
                    "takedown",
                    "Takedown lifted",
                    takedown.lifted_event.reason,
                    "ok",
                    "lifted",
                    record_url(takedown.lifted_event),
                    f"Consent event #{takedown.lifted_event.seq}",
                )
            )
    for version in trail.splits:
        shares = ", ".join(f"{s.party.name} {s.bps / 100:g}%" for s in version.shares.all())
        add(
            TrailItem(
                version.effective_from,
                "split",
                f"{version.get_side_display()} split v{version.number} in effect",
                shares,
                "muted",
                "used",
                record_url(version),
                f"Split version #{version.pk}",
            )
        )
    for event in remix_history(remix=remix):
        is_publication = event.to_status == "published" or (event.data or {}).get("unpublished")
        category = "publication" if is_publication else "job"
        status = {
            "failed": "bad",
            "cancelled": "bad",
            "ready": "ok",
            "published": "ok",
        }.get(event.to_status, "muted")
        if (event.data or {}).get("unpublished"):
            status = "warn"
        detail = event.reason
        if event.consent_event_id:
            detail += f" (caused by consent event #{event.consent_event.seq})"
        add(
            TrailItem(
                event.created_at,
                category,
                f"{event.from_status or 'new'} → {event.to_status}"
                + (" (unpublished)" if (event.data or {}).get("unpublished") else ""),
                f"{detail} — by {event.get_actor_kind_display().lower()}"
                + (f" {event.actor}" if event.actor_id else "")
                + (f", attempt {event.attempt}" if event.attempt else ""),
                status,
                event.to_status,
                record_url(event),
                f"Remix event #{event.pk}",
            )
        )
    for order in trail.orders:
        add(
            TrailItem(
                order.created_at,
                "order",
                f"Order #{order.pk} created ({order.amount_display})",
                f"Checkout session {order.stripe_checkout_session_id or '—'}",
                "muted",
                order.status,
                record_url(order),
                f"Order #{order.pk}",
            )
        )
        if order.paid_at:
            add(
                TrailItem(
                    order.paid_at,
                    "payment",
                    f"Paid {order.amount_display} through Stripe",
                    f"Payment intent {order.stripe_payment_intent_id or '—'}, "
                    f"charge {order.stripe_charge_id or '—'}",
                    "ok",
                    "paid",
                    record_url(order),
                    f"Order #{order.pk}",
                )
            )
        if order.refunded_at or order.refunded_cents:
            add(
                TrailItem(
                    order.refunded_at or order.updated_at,
                    "refund",
                    f"Refunded {order.refunded_display} to the fan",
                    f"{order.refund_reason} (Stripe refund {order.stripe_refund_id or '—'})",
                    "warn",
                    order.status,
                    record_url(order),
                    f"Order #{order.pk}",
                )
            )
    for hook in webhooks:
        add(
            TrailItem(
                hook.received_at,
                "stripe",
                f"Stripe event {hook.type}",
                f"{hook.stripe_event_id} about {hook.object_id}",
                "ok" if hook.status in WebhookEvent.DONE else "warn",
                hook.status,
                record_url(hook),
                f"Webhook event #{hook.pk}",
            )
        )
    for block in trail.blocks:
        add(
            TrailItem(
                block.created_at,
                "settlement",
                f"Settlement refused for {block.order_ref}",
                block.reason,
                "ok" if block.resolved_at else "bad",
                "resolved" if block.resolved_at else "blocked",
                record_url(block),
                "Settlement block",
            )
        )
    for settlement in trail.settlements:
        currency = settlement.currency
        add(
            TrailItem(
                settlement.created_at,
                "settlement",
                f"Split posted to the ledger: {_money(settlement.gross_cents, currency)}",
                f"{settlement.order_ref}, charge {settlement.charge_id}, platform fee "
                f"{settlement.platform_fee_bps / 100:g}%, "
                f"master pool {settlement.master_pool_bps / 100:g}%",
                "ok",
                "settled",
                record_url(settlement),
                f"Settlement #{settlement.pk}",
            )
        )
        for line in settlement.lines.all():
            who = line.party.name if line.party_id else "Clearmix (platform fee)"
            add(
                TrailItem(
                    settlement.created_at,
                    "split line",
                    f"{line.get_kind_display()}: {who} {_money(line.amount_cents, currency)}",
                    f"{line.bps / 100:g}% of the pool" if line.bps else "",
                    "muted",
                    "line",
                    record_url(line),
                    f"Line #{line.pk}",
                )
            )
            transfers = list(line.transfers.all())
            for tr in transfers:
                add(
                    TrailItem(
                        tr.created_at,
                        "transfer",
                        f"Transfer {_money(tr.amount_cents, tr.currency)} to {line.party.name}",
                        f"{tr.destination} · {tr.stripe_transfer_id or 'not sent'} · "
                        f"{tr.attempts} attempt(s){' · ' + tr.last_error if tr.last_error else ''}",
                        {"succeeded": "ok", "failed": "bad", "pending": "warn"}.get(
                            tr.status, "muted"
                        ),
                        tr.get_status_display(),
                        record_url(tr),
                        f"Transfer #{tr.pk}",
                    )
                )
                for rv in tr.reversals.all():
                    add(
                        TrailItem(
                            rv.created_at,
                            "reversal",
                            f"Reversal {_money(rv.amount_cents, tr.currency)} "
                            f"from {line.party.name}",
                            f"{rv.stripe_reversal_id or 'not sent'}"
                            + (f" · {rv.last_error}" if rv.last_error else ""),
                            {"succeeded": "ok", "failed": "bad", "receivable": "bad"}.get(
                                rv.status, "warn"
                            ),
                            rv.get_status_display(),
                            record_url(rv),
                            f"Reversal #{rv.pk}",
                        )
                    )
            if line.party_id and line.owed_cents > 0:
                add(
                    TrailItem(
                        timezone.now(),
                        "owed",
                        f"Owed to {line.party.name}: {_money(line.owed_cents, currency)}",
                        "Payable balance, swept when the party can receive transfers.",
                        "warn",
                        "owed",
                        record_url(line),
                        f"Line #{line.pk}",
                    )
                )
        for refund in settlement.refunds.all():
            add(
                TrailItem(
                    refund.created_at,
                    "refund",
                    f"{refund.get_kind_display()} posted: {_money(refund.amount_cents, currency)}",
                    f"{refund.external_id}, spread over {len(refund.lines.all())} line(s)",
                    "warn",
                    refund.get_status_display(),
                    record_url(refund),
                    f"Refund #{refund.pk}",
                )
            )
    for entry in trail.staff_entries:
        add(
            TrailItem(
                entry.created_at,
                "staff",
                f"Staff action {entry.action} by {entry.actor}",
                entry.reason,
                "muted",
                f"log #{entry.seq}",
                record_url(entry),
                f"Audit entry #{entry.seq}",
            )
        )
    # Stable order: time, then the order added (consent before jobs at a tie).
    far_future = timezone.now() + timedelta(days=36500)
    return sorted(items, key=lambda item: item.when or far_future)


# --- Search ---------------------------------------------------------------------------


@dataclass
class RemixFilters:
    artist: str = ""
    recording: str = ""
    fan: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    party_id: int | None = None
    recording_id: int | None = None

    def as_dict(self) -> dict:
        return {
            k: (v.isoformat() if isinstance(v, date) else v) for k, v in vars(self).items() if v
        }


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def remix_search(*, filters: RemixFilters) -> QuerySet[Remix]:
    qs = Remix.objects.select_related("recording", "fan")
    if filters.party_id:
        qs = qs.filter(recording__in=_recordings_of_party(filters.party_id))
    if filters.artist:
        qs = qs.filter(recording__artists__party__name__icontains=filters.artist).distinct()
    if filters.recording_id:
        qs = qs.filter(recording_id=filters.recording_id)
    if filters.recording:
        qs = qs.filter(
            Q(recording__title__icontains=filters.recording)
            | Q(recording__isrc__iexact=filters.recording.replace("-", ""))
        )
    if filters.fan:
        qs = qs.filter(
            Q(fan__email__icontains=filters.fan) | Q(fan__display_name__icontains=filters.fan)
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.date_from:
        qs = qs.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    paid = Order.objects.filter(remix=OuterRef("pk"), paid_at__isnull=False)
    return (
        qs.annotate(
            paid_cents=Sum("orders__amount_cents", filter=Q(orders__paid_at__isnull=False)),
            refunded_cents=Sum("orders__refunded_cents", filter=Q(orders__paid_at__isnull=False)),
            order_count=Count("orders", distinct=True),
            currency=Subquery(paid.order_by("-paid_at").values("currency")[:1]),
        )
        .prefetch_related(
            Prefetch(
                "recording__artists",
                queryset=RecordingArtist.objects.filter(role="main").select_related("party"),
                to_attr="main_credits",
            )
        )
        .order_by("-created_at", "-id")
    )


def _recordings_of_party(party_id: int) -> QuerySet[Recording]:
    """Recordings a party has rights in: credited artist, master share,
    writer of the work, or publishing share of the work."""
    return Recording.objects.filter(
        Q(artists__party_id=party_id)
        | Q(split_versions__shares__party_id=party_id)
        | Q(work__writers__party_id=party_id)
        | Q(work__split_versions__shares__party_id=party_id)
    ).distinct()


# --- Per-artist licensing report --------------------------------------------------------


@dataclass
class ReportRow:
    remix: Remix
    consent_seqs: list[int]
    gross_cents: int
    refunded_cents: int
    share_cents: int
    paid_cents: int
    owed_cents: int
    currency: str


@dataclass
class ArtistReport:
    party: Party
    date_from: date | None
    date_to: date | None
    rows: list[ReportRow]
    totals: dict[str, dict[str, int]]  # currency -> totals


def artist_report(*, party: Party, date_from: date | None, date_to: date | None) -> ArtistReport:
    """Every remix of the party's recordings created in the period, with the
    revenue it brought and what this party was paid and is owed from it."""
    filters = RemixFilters(party_id=party.pk, date_from=date_from, date_to=date_to)
    remixes = list(remix_search(filters=filters).prefetch_related("consent_events"))
    refs = [f"remix_{r.pk}" for r in remixes]
    lines = SettlementLine.objects.filter(
        party=party, settlement__remix_ref__in=refs
    ).select_related("settlement")
    by_ref: dict[str, list[SettlementLine]] = defaultdict(list)
    for line in lines:
        by_ref[line.settlement.remix_ref].append(line)
    rows, totals = [], defaultdict(lambda: defaultdict(int))
    for remix in remixes:
        mine = by_ref.get(f"remix_{remix.pk}", [])
        currency = remix.currency or (mine[0].settlement.currency if mine else "")
        row = ReportRow(
            remix=remix,
            consent_seqs=sorted(e.seq for e in remix.consent_events.all()),
            gross_cents=int(remix.paid_cents or 0),
            refunded_cents=int(remix.refunded_cents or 0),
            share_cents=sum(line.amount_cents - line.refunded_cents for line in mine),
            paid_cents=sum(line.transferred_cents - line.reversed_cents for line in mine),
            owed_cents=sum(line.owed_cents for line in mine),
            currency=currency,
        )
        rows.append(row)
        if currency:
            for key in ("gross_cents", "refunded_cents", "share_cents", "paid_cents", "owed_cents"):
                totals[currency][key] += getattr(row, key)
    return ArtistReport(
        party=party,
        date_from=date_from,
        date_to=date_to,
        rows=rows,
        totals={c: dict(t) for c, t in totals.items()},
    )


def party_list_for_reports(*, q: str = "") -> QuerySet[Party]:
    qs = Party.objects.all()
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("name", "id")


# --- Staff audit log ---------------------------------------------------------------------


def staff_audit_list(
    *, action: str = "", actor: str = "", date_from: date | None = None, date_to: date | None = None
) -> QuerySet[StaffAuditEntry]:
    qs = StaffAuditEntry.objects.select_related("actor").order_by("-seq")
    if action:
        qs = qs.filter(action__icontains=action)
    if actor:
        qs = qs.filter(actor__email__icontains=actor)
    if date_from:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    return qs


# --- Generic record page ---------------------------------------------------------------


@dataclass
class RecordField:
    name: str
    value: str
    url: str | None = None


def record_fields(obj) -> list[RecordField]:
    """Every concrete field of a record, foreign keys linked to their own page."""
    fields = []
    for f in obj._meta.concrete_fields:
        if f.is_relation:
            target_id = getattr(obj, f.attname)
            url = record_url(f.related_model, target_id) if target_id is not None else None
            label = f"{f.related_model._meta.verbose_name} #{target_id}" if target_id else "—"
            fields.append(RecordField(f.name, label, url))
            continue
        value = getattr(obj, f.attname)
        if isinstance(value, (dict, list)):
            text = json.dumps(value, indent=2, sort_keys=True, default=str)
        elif value is None or value == "":
            text = "—"
        else:
            text = str(value)
        fields.append(RecordField(f.name, text))
    return fields
