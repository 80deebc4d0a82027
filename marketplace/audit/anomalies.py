"""The dashboard's anomaly queries: each returns the offending rows with the
evidence that shows why. Each runs in a fixed number of queries, whatever the
number of rows (no N+1), so the dashboard stays fast on a big catalog.

Every anomaly kind is listed in KINDS; on clean data every list is empty.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from catalog.models import ConsentEvent, ConsentState, Party, RecordingArtist, Takedown
from catalog.selectors import recording_remixability_map
from catalog.terms import UNPUBLISH_KEY
from core.refs import ORDER_PREFIX
from marketplace.models import CheckRun, Order
from remixing.models import Remix
from royalties.models import (
    Account,
    Entry,
    Reversal,
    Settlement,
    SettlementBlock,
    SettlementLine,
    Transfer,
)

from .checks import latest_runs
from .delivery_anomalies import (
    jobs_past_their_lease,
    paid_not_delivered,
    pending_orders_paid_at_stripe,
    refunds_without_reversal,
    undelivered_not_refunded,
)
from .findings import Anomaly, Evidence, Kind
from .links import record_url, remix_trail_url

# Defaults; a deployment may tune them in settings without code changes.
SETTLEMENT_GRACE = timedelta(minutes=settings.AUDIT_SETTLEMENT_GRACE_MINUTES)
TRANSFER_GRACE_DAYS = settings.AUDIT_TRANSFER_GRACE_DAYS


def _money(cents: int | None, currency: str) -> str:
    if cents is None:
        return ""
    return f"{cents / 100:,.2f} {currency.upper()}"


# --- Consent ---------------------------------------------------------------------


def _consent_states(blocked: dict) -> dict[tuple[int, int | None], ConsentState]:
    """Current consent states of the parties named in the verdicts, by
    (party, recording or None for catalog-wide)."""
    party_ids = {r.party_id for v in blocked.values() for r in v.reasons if r.party_id}
    return {
        (state.party_id, state.recording_id): state
        for state in ConsentState.objects.filter(party_id__in=party_ids)
        .filter(Q(recording__isnull=True) | Q(recording_id__in=list(blocked)))
        .select_related("event", "party")
    }


def _takedowns_in_force(recording_ids: list[int]) -> dict[int, Takedown]:
    return {
        t.recording_id: t
        for t in Takedown.objects.filter(
            recording_id__in=recording_ids, lifted_event__isnull=True
        ).select_related("placed_event")
    }


@dataclass
class _RevocationFindings:
    """What one published remix's blocked verdict amounts to."""

    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    party_ids: list[int] = field(default_factory=list)
    when: datetime | None = None


def _revocation_requires_unpublish(remix: Remix, state: ConsentState | None) -> bool:
    if state is None or state.status != ConsentState.Status.REVOKED:
        return False
    # The terms in force when consent was revoked decide; the remix's
    # own copy is the fallback for states written before terms existed.
    terms = state.terms or remix.terms or {}
    return bool(terms.get(UNPUBLISH_KEY, True))


def _revocation_findings(remix: Remix, verdict, states, takedowns) -> _RevocationFindings:
    found = _RevocationFindings()
    for reason in verdict.reasons:
        if reason.code == "takedown":
            found.reasons.append(reason.message)
            takedown = takedowns.get(remix.recording_id)
            if takedown is not None:
                found.when = takedown.placed_at
                seq = takedown.placed_event.seq
                found.evidence.append(
                    Evidence(f"Takedown event #{seq}", record_url(takedown.placed_event))
                )
            continue
        if reason.code != "consent_missing" or reason.party_id is None:
            continue
        own = states.get((reason.party_id, remix.recording_id))
        wide = states.get((reason.party_id, None))
        latest = max((s for s in (own, wide) if s), key=lambda s: s.seq, default=None)
        if not _revocation_requires_unpublish(remix, latest):
            continue  # not revoked, or the artist let existing remixes stay up
        found.reasons.append(f"{latest.party.name} revoked consent (unpublish on revoke)")
        found.party_ids.append(reason.party_id)
        revoked_at = latest.event.created_at
        found.when = max(found.when, revoked_at) if found.when else revoked_at
        found.evidence.append(
            Evidence(f"Revocation, consent event #{latest.event.seq}", record_url(latest.event))
        )
    return found


def published_without_standing_consent() -> list[Anomaly]:
    """Published remixes whose recording lost consent (under terms that
    require unpublishing) or was taken down: the revocation handler should
    have unpublished them."""
    remixes = list(
        Remix.objects.filter(status=Remix.Status.PUBLISHED)
        .select_related("recording", "fan")
        .order_by("-published_at", "-id")
    )
    if not remixes:
        return []
    recordings = {remix.recording_id: remix.recording for remix in remixes}
    verdicts = recording_remixability_map(list(recordings.values()))
    blocked = {rid: v for rid, v in verdicts.items() if not v.remixable}
    if not blocked:
        return []
    states = _consent_states(blocked)
    takedowns = _takedowns_in_force(list(blocked))
    anomalies: list[Anomaly] = []
    for remix in remixes:
        verdict = blocked.get(remix.recording_id)
        if verdict is None:
            continue
        found = _revocation_findings(remix, verdict, states, takedowns)
        if not found.reasons:
            continue
        anomalies.append(
            Anomaly(
                kind="published_after_revocation",
                subject=f"“{remix.title}” by {remix.fan} (remix of {remix.recording.title})",
                detail="; ".join(found.reasons)
                + f". Still published since {remix.published_at:%Y-%m-%d %H:%M}.",
                when=found.when,
                evidence=[
                    Evidence(f"Remix #{remix.pk} trail", remix_trail_url(remix.pk)),
                    *found.evidence,
                ],
                remix_id=remix.pk,
                recording_id=remix.recording_id,
                party_ids=found.party_ids,
            )
        )
    return anomalies


def remixes_without_consent_basis() -> list[Anomaly]:
    """Remixes that do not rest on a grant from every main artist of their
    recording. Must always be zero: remix_create records the grants it relied on."""
    remixes = list(
        Remix.objects.order_by("-created_at", "-id").values_list(
            "id", "recording_id", "title", "status", "created_at", "recording__title"
        )
    )
    if not remixes:
        return []
    through = Remix.consent_events.through
    relied: dict[int, set[int]] = defaultdict(set)
    for remix_id, party_id, event_recording_id, recording_id in through.objects.filter(
        consentevent__kind__in=[ConsentEvent.Kind.GRANT, ConsentEvent.Kind.TERMS_CHANGE]
    ).values_list(
        "remix_id",
        "consentevent__party_id",
        "consentevent__recording_id",
        "remix__recording_id",
    ):
        # A grant scoped to another recording is no basis for this one.
        if event_recording_id is None or event_recording_id == recording_id:
            relied[remix_id].add(party_id)
    mains: dict[int, dict[int, str]] = defaultdict(dict)
    for recording_id, party_id, name in RecordingArtist.objects.filter(
        role=RecordingArtist.Role.MAIN, recording_id__in={r[1] for r in remixes}
    ).values_list("recording_id", "party_id", "party__name"):
        mains[recording_id][party_id] = name
    found: list[Anomaly] = []
    for remix_id, recording_id, title, status, created_at, recording_title in remixes:
        have = relied.get(remix_id, set())
        needed = mains.get(recording_id, {})
        missing = [name for party_id, name in needed.items() if party_id not in have]
        if have and not missing:
            continue
        detail = (
            "No consent grant recorded at all."
            if not have
            else f"No recorded consent from {', '.join(missing)}."
        )
        found.append(
            Anomaly(
                kind="no_consent_basis",
                subject=f"Remix #{remix_id} “{title}” of {recording_title} ({status})",
                detail=detail,
                when=created_at,
                evidence=[Evidence(f"Remix #{remix_id} trail", remix_trail_url(remix_id))],
                remix_id=remix_id,
                recording_id=recording_id,
                party_ids=[p for p in needed if p not in have],
            )
        )
    return found


# --- Money -----------------------------------------------------------------------


def _order_ref_expr():
    # marketplace.billing.fulfilment.order_settlement_ref, as SQL.
    return Concat(Value(ORDER_PREFIX), Cast("pk", CharField()), output_field=CharField())


def paid_orders_without_settlement(*, now: datetime | None = None) -> list[Anomaly]:
    """Orders Stripe says are paid whose split was never posted to the ledger."""
    now = now or timezone.now()
    settled = Settlement.objects.filter(order_ref=OuterRef("ref"))
    orders = (
        Order.objects.filter(
            paid_at__isnull=False,
            paid_at__lt=now - SETTLEMENT_GRACE,
            status__in=[
                Order.Status.PAID,
                Order.Status.PARTIALLY_REFUNDED,
                Order.Status.DISPUTED,
            ],
        )
        .annotate(ref=_order_ref_expr())
        .annotate(settled=Exists(settled))
        .filter(settled=False)
        .select_related("remix", "remix__recording", "fan")
        .order_by("paid_at", "id")
    )
    orders = list(orders)
    blocks = {
        b.order_ref: b
        for b in SettlementBlock.objects.filter(order_ref__in=[o.ref for o in orders])
    }
    found = []
    for order in orders:
        evidence = [
            Evidence(f"Order #{order.pk}", record_url(order)),
            Evidence(f"Remix #{order.remix_id} trail", remix_trail_url(order.remix_id)),
        ]
        detail = (
            f"Paid {order.paid_at:%Y-%m-%d %H:%M}, charge {order.stripe_charge_id or '—'}; "
            "no settlement."
        )
        block = blocks.get(order.ref)
        if block is not None:
            detail += f" The ledger refused it: {block.reason}."
            evidence.append(Evidence("Settlement block", record_url(block)))
        found.append(
            Anomaly(
                kind="paid_without_settlement",
                subject=f"Order #{order.pk} for “{order.remix.title}” by {order.fan}",
                detail=detail,
                when=order.paid_at,
                evidence=evidence,
                remix_id=order.remix_id,
                recording_id=order.remix.recording_id,
                amount_cents=order.amount_cents,
                currency=order.currency,
            )
        )
    return found


def _remix_id_of(remix_ref: str) -> int | None:
    # Settlements name their remix as "remix_<id>" (marketplace.billing.fulfilment).
    prefix, _, tail = (remix_ref or "").partition("_")
    return int(tail) if prefix == "remix" and tail.isdigit() else None


def settlements_unpaid_to_onboarded(*, now: datetime | None = None) -> list[Anomaly]:
    """Lines still owed after N days to parties whose account can receive."""
    now = now or timezone.now()
    lines = (
        SettlementLine.objects.filter(
            kind__in=[SettlementLine.Kind.MASTER, SettlementLine.Kind.PUBLISHING],
            settlement__created_at__lt=now - timedelta(days=TRANSFER_GRACE_DAYS),
            party__payee__stripe_account_id__isnull=False,
            party__payee__charges_enabled=True,
            party__payee__payouts_enabled=True,
            party__payee__transfers_active=True,
        )
        .annotate(
            owed=F("amount_cents")
            - F("refunded_cents")
            - F("offset_cents")
            - F("transferred_cents")
            + F("reversed_cents")
            + F("receivable_cents")
        )
        .filter(owed__gt=0)
        .select_related("settlement", "party")
        .order_by("settlement__created_at", "id")
    )
    found = []
    for line in lines:
        settlement = line.settlement
        remix_id = _remix_id_of(settlement.remix_ref)
        evidence = [
            Evidence(f"Settlement {settlement.order_ref}", record_url(settlement)),
            Evidence(f"Line #{line.pk}", record_url(line)),
        ]
        if remix_id:
            evidence.append(Evidence(f"Remix #{remix_id} trail", remix_trail_url(remix_id)))
        found.append(
            Anomaly(
                kind="settlement_without_transfer",
                subject=(
                    f"{line.party.name}: {line.get_kind_display().lower()} line of "
                    f"{settlement.order_ref}"
                ),
                detail=(
                    f"{_money(line.owed, settlement.currency)} owed since "
                    f"{settlement.created_at:%Y-%m-%d}; the party can receive transfers."
                ),
                when=settlement.created_at,
                evidence=evidence,
                remix_id=remix_id,
                recording_id=settlement.recording_id,
                party_ids=[line.party_id],
                amount_cents=line.owed,
                currency=settlement.currency,
            )
        )
    return found


def failed_transfers() -> list[Anomaly]:
    found = []
    for tr in (
        Transfer.objects.filter(status=Transfer.Status.FAILED)
        .select_related("party", "line__settlement")
        .order_by("created_at", "id")
    ):
        settlement = tr.line.settlement
        remix_id = _remix_id_of(settlement.remix_ref)
        evidence = [
            Evidence(f"Transfer #{tr.pk}", record_url(tr)),
            Evidence(f"Settlement {settlement.order_ref}", record_url(settlement)),
        ]
        if remix_id:
            evidence.append(Evidence(f"Remix #{remix_id} trail", remix_trail_url(remix_id)))
        found.append(
            Anomaly(
                kind="failed_transfer",
                subject=f"Transfer to {tr.party.name} ({tr.destination or 'no account'})",
                detail=(
                    f"{_money(tr.amount_cents, tr.currency)}, {tr.attempts} attempt(s): "
                    f"{tr.last_error or 'no error recorded'}"
                ),
                when=tr.updated_at,
                evidence=evidence,
                remix_id=remix_id,
                recording_id=settlement.recording_id,
                party_ids=[tr.party_id],
                amount_cents=tr.amount_cents,
                currency=tr.currency,
                transfer_id=tr.pk,
            )
        )
    for rv in (
        Reversal.objects.filter(status=Reversal.Status.FAILED)
        .select_related("transfer__party", "transfer__line__settlement")
        .order_by("created_at", "id")
    ):
        settlement = rv.transfer.line.settlement
        found.append(
            Anomaly(
                kind="failed_transfer",
                subject=f"Reversal of transfer #{rv.transfer_id} from {rv.transfer.party.name}",
                detail=(
                    f"{_money(rv.amount_cents, rv.transfer.currency)}, {rv.attempts} "
                    f"attempt(s): {rv.last_error or 'no error recorded'}"
                ),
                when=rv.updated_at,
                evidence=[
                    Evidence(f"Reversal #{rv.pk}", record_url(rv)),
                    Evidence(f"Transfer #{rv.transfer_id}", record_url(rv.transfer)),
                ],
                remix_id=_remix_id_of(settlement.remix_ref),
                recording_id=settlement.recording_id,
                party_ids=[rv.transfer.party_id],
                amount_cents=rv.amount_cents,
                currency=rv.transfer.currency,
            )
        )
    return found


def receivables_outstanding() -> list[Anomaly]:
    """Money parties owe back (a reversal their balance could not cover)."""
    rows = (
        Entry.objects.filter(account__kind=Account.Kind.RECEIVABLE)
        .values("account_id", "account__party_id", "account__party__name", "currency")
        .annotate(balance=Sum("amount_cents"))
        .filter(balance__gt=0)
        .order_by("account__party__name", "currency")
    )
    found = []
    for row in rows:
        party_id = row["account__party_id"]
        found.append(
            Anomaly(
                kind="receivable_outstanding",
                subject=f"{row['account__party__name']} owes the platform",
                detail=(
                    f"{_money(row['balance'], row['currency'])} receivable "
                    "(offset against future earnings)."
                ),
                evidence=[Evidence(f"Party #{party_id}", record_url(Party, party_id))],
                party_ids=[party_id],
                amount_cents=int(row["balance"]),
                currency=row["currency"],
            )
        )
    return found


def failing_checks() -> list[Anomaly]:
    """The latest run of each integrity check, where it failed or crashed."""
    found = []
    for name, run in latest_runs().items():
        if run is None or run.ok is True or run.finished_at is None:
            continue
        evidence = [Evidence(f"Check run #{run.pk}", record_url(run))]
        evidence += [Evidence(e["label"], e.get("url")) for e in run.details.get("evidence", [])]
        found.append(
            Anomaly(
                kind="check_failed",
                subject=CheckRun.Name(name).label,
                detail=run.summary,
                when=run.finished_at,
                evidence=evidence,
            )
        )
    return found


KINDS: tuple[Kind, ...] = (
    Kind(
        "published_after_revocation",
        "Published after consent was revoked",
        "Published remixes whose artist revoked consent under terms that require unpublishing, "
        "or whose track is taken down.",
        "bad",
        published_without_standing_consent,
    ),
    Kind(
        "no_consent_basis",
        "Remixes with no consent basis",
        "Remixes that do not rest on a recorded grant from every main artist. Must be zero.",
        "bad",
        remixes_without_consent_basis,
    ),
    Kind(
        "paid_without_settlement",
        "Paid orders without settlement",
        "Orders paid more than a grace period ago whose split was never posted to the ledger.",
        "bad",
        paid_orders_without_settlement,
    ),
    Kind(
        "paid_not_delivered",
        "Paid and not delivered",
        "Orders paid longer ago than the delivery deadline whose remix is still not ready. "
        "Every paid order must end delivered or refunded.",
        "bad",
        paid_not_delivered,
    ),
    Kind(
        "undelivered_not_refunded",
        "Failed or cancelled, not refunded",
        "Remixes that failed for good or were cancelled while their order still holds the "
        "fan's money.",
        "bad",
        undelivered_not_refunded,
    ),
    Kind(
        "pending_paid_at_stripe",
        "Pending orders paid at Stripe",
        "Orders still pending here although Stripe reported their Checkout Session paid, or "
        "that were never reconciled with Stripe.",
        "bad",
        pending_orders_paid_at_stripe,
    ),
    Kind(
        "refund_without_reversal",
        "Refunds the ledger did not reverse",
        "Money given back to a fan whose settlement was not (fully) reversed in the ledger.",
        "bad",
        refunds_without_reversal,
    ),
    Kind(
        "job_past_lease",
        "Jobs past their lease",
        "Renders and separations still running long after their worker last showed a sign of life.",
        "bad",
        jobs_past_their_lease,
    ),
    Kind(
        "settlement_without_transfer",
        "Settled but not transferred",
        f"Lines still owed {TRANSFER_GRACE_DAYS}+ days after settlement to parties whose Stripe "
        "account can receive transfers.",
        "warn",
        settlements_unpaid_to_onboarded,
    ),
    Kind(
        "failed_transfer",
        "Failed transfers and reversals",
        "Stripe refused these; they are retried with backoff.",
        "warn",
        failed_transfers,
    ),
    Kind(
        "receivable_outstanding",
        "Receivables outstanding",
        "Parties who owe money back because a transfer reversal failed.",
        "warn",
        receivables_outstanding,
    ),
    Kind(
        "check_failed",
        "Failed integrity checks",
        "The latest run of the consent chain, ledger, Stripe or audit log check failed.",
        "bad",
        failing_checks,
    ),
)
KINDS_BY_KEY: dict[str, Kind] = {kind.key: kind for kind in KINDS}


def anomalies_all() -> dict[str, list[Anomaly]]:
    return {kind.key: kind.finder() for kind in KINDS}
