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
    Party,
    Recording,
    RecordingArtist,
    SplitVersion,
    StaffAuditEntry,
    Takedown,
)
from catalog.selectors import Credits, recording_credits, recording_remixability
from catalog.terms import TERM_LABELS
from marketplace.models import Order
from remixing.models import Remix
from royalties.models import Settlement, SettlementBlock, SettlementLine

from .links import record_url
from .trail.consent import ConsentBasis, consent_basis, consent_items, takedown_items, takedown_list
from .trail.items import TrailItem
from .trail.jobs import job_items
from .trail.money import (
    PartyMoney,
    block_items,
    party_money,
    settlement_block_list,
    settlement_items,
    settlement_list,
)
from .trail.orders import order_items, order_list, order_stripe_ids
from .trail.splits import split_items, split_list
from .trail.staff import staff_entry_list, staff_items
from .trail.webhooks import webhook_items, webhook_list


@dataclass
class RemixTrail:
    remix: Remix
    credits: Credits
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


def _split_ids(remix: Remix, settlements: list[Settlement]) -> set[int]:
    ids = {remix.master_split_version_id, remix.publishing_split_version_id}
    for s in settlements:
        ids |= {s.master_split_version_id, s.publishing_split_version_id}
    return {i for i in ids if i}


def _recipe_json(recipe: dict | None) -> str:
    return json.dumps(recipe, indent=2, sort_keys=True) if recipe else ""


def remix_trail(*, remix_id: int) -> RemixTrail:
    """Everything about one remix, each item linked to its source record,
    with a single chronological story built from all of it (one builder per
    source, in marketplace.audit.trail)."""
    remix = remix_for_trail(remix_id=remix_id)
    orders = order_list(remix)
    settlements = settlement_list(remix, orders)
    trail = RemixTrail(
        remix=remix,
        credits=recording_credits(recording=remix.recording),
        remixability_now=recording_remixability(recording=remix.recording),
        consent=consent_basis(remix),
        takedowns=takedown_list(remix.recording),
        splits=split_list(_split_ids(remix, settlements)),
        orders=orders,
        settlements=settlements,
        blocks=settlement_block_list(orders),
        money=party_money(settlements),
        staff_entries=staff_entry_list(remix, orders),
        recipe_json=json.dumps(remix.recipe, indent=2, sort_keys=True),
        rendered_recipe_json=_recipe_json(remix.rendered_recipe),
        terms=[(TERM_LABELS.get(k, k), bool(v)) for k, v in sorted((remix.terms or {}).items())],
    )
    trail.items = _story(trail, webhook_items(webhook_list(order_stripe_ids(orders))))
    return trail


def _story(trail: RemixTrail, webhook_story: list[TrailItem]) -> list[TrailItem]:
    items = [
        *consent_items(trail.consent),
        *takedown_items(trail.takedowns),
        *split_items(trail.splits),
        *job_items(trail.remix),
        *order_items(trail.orders),
        *webhook_story,
        *block_items(trail.blocks),
        *settlement_items(trail.settlements),
        *staff_items(trail.staff_entries),
    ]
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
            Q(fan__handle__icontains=filters.fan)
            | Q(fan__display_name__icontains=filters.fan)
            # Staff may look up a support request by its sender's address.
            | Q(fan__email__icontains=filters.fan)
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
        qs = qs.filter(Q(actor__handle__icontains=actor) | Q(actor__email__icontains=actor))
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
