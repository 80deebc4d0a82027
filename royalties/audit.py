"""Ledger verification and reconciliation with Stripe (read-only).

`ledger_verify()` returns the list of discrepancies, first one first; empty
means the ledger and the operational records agree to the cent.
`stripe_reconcile()` compares our transfers and reversals with Stripe's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Sum

from . import stripe_client as stripe_api
from .models import (
    Account,
    AccountBalance,
    Entry,
    Refund,
    Reversal,
    Settlement,
    SettlementLine,
    Transfer,
)
from .stripe_client import stripe_value


def _sum_by(qs, *keys) -> dict:
    out: dict = defaultdict(int)
    for row in qs.values(*keys).annotate(s=Sum("amount_cents")):
        out[tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]] = int(row["s"] or 0)
    return out


def ledger_verify() -> list[str]:
    problems: list[str] = []
    for check in (
        _transactions_balanced,
        _settlements_whole,
        _lines_match_entries,
        _parties_match_lines,
        _balances_match_entries,
        _platform_cash_matches_sales,
    ):
        problems += check()
    return problems


def _transactions_balanced() -> list[str]:
    """Every transaction balanced per currency, with at least two entries."""
    problems: list[str] = []
    with connection.cursor() as c:
        c.execute(
            "SELECT transaction_id, currency, SUM(amount_cents) FROM royalties_entry "
            "GROUP BY transaction_id, currency HAVING SUM(amount_cents) <> 0 "
            "ORDER BY transaction_id LIMIT 5"
        )
        for txn_id, cur, total in c.fetchall():
            problems.append(f"transaction #{txn_id} is unbalanced: {total} {cur}")
        c.execute(
            "SELECT t.id FROM royalties_ledgertransaction t LEFT JOIN royalties_entry e "
            "ON e.transaction_id = t.id GROUP BY t.id HAVING COUNT(e.id) < 2 ORDER BY t.id LIMIT 5"
        )
        for (txn_id,) in c.fetchall():
            problems.append(f"transaction #{txn_id} has fewer than two entries")
    return problems


def _settlements_whole() -> list[str]:
    """Each settlement's lines sum to its gross, and its transaction carries it."""
    problems: list[str] = []
    bad = (
        Settlement.objects.annotate(lines_total=Sum("lines__amount_cents"))
        .exclude(lines_total=F("gross_cents"))
        .values_list("order_ref", "gross_cents", "lines_total")[:5]
    )
    for ref, gross, total in bad:
        problems.append(f"settlement {ref}: lines sum to {total}, gross is {gross}")
    for ref in Settlement.objects.filter(transaction__isnull=True).values_list(
        "order_ref", flat=True
    )[:5]:
        problems.append(f"settlement {ref} has no ledger transaction")
    return problems


@dataclass(frozen=True)
class _LineSums:
    """Per line: its entries by account kind, and its transfers and reversals."""

    entries: dict
    transfers_ok: dict
    reversals_ok: dict
    reversals_open: dict
    reversals_receivable: dict

    @classmethod
    def load(cls) -> _LineSums:
        by_status = {
            status: _sum_by(Reversal.objects.filter(status__in=statuses), "transfer__line_id")
            for status, statuses in (
                ("ok", [Reversal.Status.SUCCEEDED]),
                ("open", [Reversal.Status.PENDING, Reversal.Status.FAILED]),
                ("receivable", [Reversal.Status.RECEIVABLE]),
            )
        }
        return cls(
            entries=_sum_by(Entry.objects.filter(line__isnull=False), "line_id", "account__kind"),
            transfers_ok=_sum_by(
                Transfer.objects.filter(status=Transfer.Status.SUCCEEDED), "line_id"
            ),
            reversals_ok=by_status["ok"],
            reversals_open=by_status["open"],
            reversals_receivable=by_status["receivable"],
        )


def _line_checks(line: SettlementLine, sums: _LineSums) -> list[tuple[str, int, int]]:
    """(what, found, expected) for a party line's counters against the ledger."""
    pk = line.pk
    owed = line.owed_cents
    paid = line.transferred_cents - line.reversed_cents
    receivable = line.receivable_cents - line.offset_cents
    in_flight = sums.reversals_open.get(pk, 0)
    return [
        ("owed is negative beyond the reversals in flight", owed, max(owed, -in_flight)),
        ("payable entries", sums.entries.get((pk, "payable"), 0), -owed),
        ("paid_out entries", sums.entries.get((pk, "paid_out"), 0), -paid),
        ("receivable entries", sums.entries.get((pk, "receivable"), 0), receivable),
        ("succeeded transfers", sums.transfers_ok.get(pk, 0), line.transferred_cents),
        ("succeeded reversals", sums.reversals_ok.get(pk, 0), line.reversed_cents),
        ("receivable reversals", sums.reversals_receivable.get(pk, 0), line.receivable_cents),
        (
            "paid + owed + refunded",
            paid + owed + line.refunded_cents - receivable,
            line.amount_cents,
        ),
    ]


def _lines_match_entries() -> list[str]:
    """Every line: its ledger entries equal its counters (paid, owed, receivable)."""
    problems: list[str] = []
    sums = _LineSums.load()
    lines = SettlementLine.objects.select_related("settlement").order_by("pk")
    for line in lines.iterator(chunk_size=2000):
        ref = f"line {line.pk} ({line.kind} of {line.settlement.order_ref}"
        ref += f", party {line.party_id})" if line.party_id else ")"
        if line.kind == SettlementLine.Kind.PLATFORM_FEE:
            got = sums.entries.get((line.pk, "platform_revenue"), 0)
            if got != -line.net_cents:
                problems.append(f"{ref}: revenue entries {got}, expected {-line.net_cents}")
            continue
        for name, got, want in _line_checks(line, sums):
            if got != want:
                problems.append(f"{ref}: {name} {got}, expected {want}")
    return problems


def _parties_match_lines() -> list[str]:
    """Per party and currency: account balances equal the sum of their lines."""
    problems: list[str] = []
    acct = _sum_by(
        Entry.objects.filter(account__party__isnull=False),
        "account__party_id",
        "currency",
        "account__kind",
    )
    lines_by_party: dict = defaultdict(lambda: {"payable": 0, "paid_out": 0, "receivable": 0})
    for line in SettlementLine.objects.filter(party__isnull=False).select_related("settlement"):
        k = (line.party_id, line.settlement.currency)
        lines_by_party[k]["payable"] -= line.owed_cents
        lines_by_party[k]["paid_out"] -= line.transferred_cents - line.reversed_cents
        lines_by_party[k]["receivable"] += line.receivable_cents - line.offset_cents
    keys = {(p, c) for p, c, _ in acct} | set(lines_by_party)
    for party_id, cur in sorted(keys):
        for kind in ("payable", "paid_out", "receivable"):
            got = acct.get((party_id, cur, kind), 0)
            want = lines_by_party[(party_id, cur)][kind]
            if got != want:
                problems.append(
                    f"party {party_id} {kind} balance {got} {cur}, its lines say {want}"
                )
            if kind == "receivable" and got < 0:
                problems.append(f"party {party_id} receivable is negative: {got} {cur}")
    return problems


def _balances_match_entries() -> list[str]:
    """Every account's balance row equals the sum of its entries."""
    kept = dict(AccountBalance.objects.values_list("account_id", "balance_cents"))
    summed = _sum_by(Entry.objects.all(), "account_id")
    wrong = sorted(a for a in set(kept) | set(summed) if kept.get(a, 0) != summed.get(a, 0))
    if not wrong:
        return []
    accounts = Account.objects.in_bulk(wrong)
    return [
        f"{accounts[a]}: balance row says {kept.get(a, 0)}, its entries sum to {summed.get(a, 0)}"
        for a in wrong
    ]


def _platform_cash_matches_sales() -> list[str]:
    """Platform cash = gross settled - refunds/disputes still standing."""
    problems: list[str] = []
    gross = {
        row["currency"]: int(row["s"])
        for row in Settlement.objects.values("currency").annotate(s=Sum("gross_cents"))
    }
    refunded: dict = defaultdict(int)
    for cur, amt in Refund.objects.filter(status__in=["posted", "lost"]).values_list(
        "settlement__currency", "amount_cents"
    ):
        refunded[cur] += amt
    cash = _sum_by(Entry.objects.filter(account__kind="platform_cash"), "currency")
    for cur in sorted(set(gross) | set(cash)):
        want = gross.get(cur, 0) - refunded.get(cur, 0)
        if cash.get(cur, 0) != want:
            problems.append(f"platform cash {cash.get(cur, 0)} {cur}, expected {want}")
    return problems


def _reversal_problems(client, st, tid: str, mine_revs: dict[str, int]) -> list[str]:
    """A Stripe transfer's reversals against ours, to the cent, both ways."""
    problems: list[str] = []
    theirs: dict[str, int] = {}
    reversals = stripe_value(st, "reversals")
    data = stripe_value(reversals, "data") if reversals is not None else None
    has_more = bool(stripe_value(reversals, "has_more")) if reversals is not None else True
    if data is None or has_more:
        data = client.v1.transfers.reversals.list(tid, params={"limit": 100}).auto_paging_iter()
    for rv in data:
        theirs[stripe_value(rv, "id")] = stripe_value(rv, "amount")
    for rid, amt in theirs.items():
        if rid not in mine_revs:
            problems.append(f"Stripe reversal {rid} of {tid} ({amt}) is not in the ledger")
        elif mine_revs[rid] != amt:
            problems.append(f"reversal {rid}: Stripe {amt}, ledger {mine_revs[rid]}")
    for rid, amt in mine_revs.items():
        if rid not in theirs:
            problems.append(f"ledger reversal {rid} of {tid} ({amt}) is missing at Stripe")
    return problems


def stripe_reconcile(client=None) -> list[str]:
    """Every transfer and reversal in the ledger matches Stripe's to the cent,
    and every Clearmix transfer at Stripe is in the ledger. Lists via the SDK."""
    client = client or stripe_api.stripe_client()
    problems: list[str] = []
    ours = {
        t.stripe_transfer_id: t for t in Transfer.objects.filter(status=Transfer.Status.SUCCEEDED)
    }
    our_revs: dict[str, dict[str, int]] = defaultdict(dict)
    for r in Reversal.objects.filter(status=Reversal.Status.SUCCEEDED).select_related("transfer"):
        our_revs[r.transfer.stripe_transfer_id][r.stripe_reversal_id] = r.amount_cents
    seen: set[str] = set()
    for st in client.v1.transfers.list(params={"limit": 100}).auto_paging_iter():
        tid = stripe_value(st, "id")
        meta = stripe_value(st, "metadata") or {}
        mine = tid in ours or stripe_value(meta, "clearmix_transfer_id")
        if not mine:
            continue  # not a royalties transfer
        seen.add(tid)
        t = ours.get(tid)
        if t is None:
            amount = f"{stripe_value(st, 'amount')} {stripe_value(st, 'currency')}"
            problems.append(
                f"Stripe transfer {tid} ({amount}) is not in the ledger "
                f"(clearmix transfer {stripe_value(meta, 'clearmix_transfer_id')})"
            )
            continue
        for name, got, want in (
            ("amount", stripe_value(st, "amount"), t.amount_cents),
            ("currency", stripe_value(st, "currency"), t.currency),
            ("destination", stripe_value(st, "destination"), t.destination),
        ):
            if got != want:
                problems.append(f"transfer {tid}: Stripe {name} {got}, ledger {want}")
        mine_revs = our_revs.get(tid, {})
        problems += _reversal_problems(client, st, tid, mine_revs)
        if stripe_value(st, "amount_reversed") is not None and stripe_value(
            st, "amount_reversed"
        ) != sum(mine_revs.values()):
            problems.append(
                f"transfer {tid}: Stripe amount_reversed {stripe_value(st, 'amount_reversed')}, "
                f"ledger {sum(mine_revs.values())}"
            )
    for tid, t in ours.items():
        if tid not in seen:
            problems.append(
                f"ledger transfer {tid} ({t.amount_cents} {t.currency}) is missing at Stripe"
            )
    return problems
