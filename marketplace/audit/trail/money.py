"""Where the money went: settlements and their lines, transfers, reversals,
ledger refunds, refused settlements, and what each party got."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django.utils import timezone

from catalog.models import Party
from core.refs import order_ref
from marketplace.audit.links import record_url
from marketplace.models import Order
from remixing.models import Remix
from royalties.models import (
    Payee,
    Refund,
    Reversal,
    Settlement,
    SettlementBlock,
    SettlementLine,
    Transfer,
)

from .items import TrailItem, money_text

TRANSFER_BADGES = {"succeeded": "ok", "failed": "bad", "pending": "warn"}
REVERSAL_BADGES = {"succeeded": "ok", "failed": "bad", "receivable": "bad"}


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


def order_refs(orders: list[Order]) -> list[str]:
    return [order_ref(o.pk) for o in orders]


def settlement_list(remix: Remix, orders: list[Order]) -> list[Settlement]:
    transfers = Transfer.objects.order_by("created_at", "id").prefetch_related(
        Prefetch("reversals", queryset=Reversal.objects.order_by("id"))
    )
    lines = SettlementLine.objects.select_related("party").prefetch_related(
        Prefetch("transfers", queryset=transfers)
    )
    return list(
        Settlement.objects.filter(
            Q(order_ref__in=order_refs(orders)) | Q(remix_ref=f"remix_{remix.pk}")
        )
        .select_related("transaction")
        .prefetch_related(Prefetch("lines", queryset=lines), "refunds__lines")
        .order_by("created_at", "id")
    )


def settlement_block_list(orders: list[Order]) -> list[SettlementBlock]:
    return list(SettlementBlock.objects.filter(order_ref__in=order_refs(orders)))


def party_money(settlements: list[Settlement]) -> list[PartyMoney]:
    """Per party and side: earned, refunded, paid out, owed, receivable."""
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
    return list(money.values())


def block_items(blocks: list[SettlementBlock]) -> list[TrailItem]:
    return [
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
        for block in blocks
    ]


def _transfer_items(line: SettlementLine, tr: Transfer) -> list[TrailItem]:
    error = f" · {tr.last_error}" if tr.last_error else ""
    items = [
        TrailItem(
            tr.created_at,
            "transfer",
            f"Transfer {money_text(tr.amount_cents, tr.currency)} to {line.party.name}",
            f"{tr.destination} · {tr.stripe_transfer_id or 'not sent'} · "
            f"{tr.attempts} attempt(s){error}",
            TRANSFER_BADGES.get(tr.status, "muted"),
            tr.get_status_display(),
            record_url(tr),
            f"Transfer #{tr.pk}",
        )
    ]
    for rv in tr.reversals.all():
        items.append(
            TrailItem(
                rv.created_at,
                "reversal",
                f"Reversal {money_text(rv.amount_cents, tr.currency)} from {line.party.name}",
                f"{rv.stripe_reversal_id or 'not sent'}"
                + (f" · {rv.last_error}" if rv.last_error else ""),
                REVERSAL_BADGES.get(rv.status, "warn"),
                rv.get_status_display(),
                record_url(rv),
                f"Reversal #{rv.pk}",
            )
        )
    return items


def _line_items(settlement: Settlement, line: SettlementLine) -> list[TrailItem]:
    currency = settlement.currency
    who = line.party.name if line.party_id else "Clearmix (platform fee)"
    items = [
        TrailItem(
            settlement.created_at,
            "split line",
            f"{line.get_kind_display()}: {who} {money_text(line.amount_cents, currency)}",
            f"{line.bps / 100:g}% of the pool" if line.bps else "",
            "muted",
            "line",
            record_url(line),
            f"Line #{line.pk}",
        )
    ]
    for tr in line.transfers.all():
        items += _transfer_items(line, tr)
    if line.party_id and line.owed_cents > 0:
        items.append(
            TrailItem(
                timezone.now(),
                "owed",
                f"Owed to {line.party.name}: {money_text(line.owed_cents, currency)}",
                "Payable balance, swept when the party can receive transfers.",
                "warn",
                "owed",
                record_url(line),
                f"Line #{line.pk}",
            )
        )
    return items


def _refund_item(settlement: Settlement, refund: Refund) -> TrailItem:
    return TrailItem(
        refund.created_at,
        "refund",
        f"{refund.get_kind_display()} posted: "
        f"{money_text(refund.amount_cents, settlement.currency)}",
        f"{refund.external_id}, spread over {len(refund.lines.all())} line(s)",
        "warn",
        refund.get_status_display(),
        record_url(refund),
        f"Refund #{refund.pk}",
    )


def settlement_items(settlements: list[Settlement]) -> list[TrailItem]:
    items: list[TrailItem] = []
    for settlement in settlements:
        items.append(
            TrailItem(
                settlement.created_at,
                "settlement",
                "Split posted to the ledger: "
                f"{money_text(settlement.gross_cents, settlement.currency)}",
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
            items += _line_items(settlement, line)
        items += [_refund_item(settlement, refund) for refund in settlement.refunds.all()]
    return items
