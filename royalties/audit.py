"""Ledger verification and reconciliation with Stripe (read-only).

`ledger_verify()` returns the list of discrepancies, first one first; empty
means the ledger and the operational records agree to the cent.
`stripe_reconcile()` compares our transfers and reversals with Stripe's.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.db.models import F, Sum

from .models import Entry, Refund, Reversal, Settlement, SettlementLine, Transfer


def _sum_by(qs, *keys) -> dict:
    out: dict = defaultdict(int)
    for row in qs.values(*keys).annotate(s=Sum("amount_cents")):
        out[tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]] = int(row["s"] or 0)
    return out


def ledger_verify() -> list[str]:
    problems: list[str] = []

    # 1. Every transaction balanced per currency, with at least two entries.
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

    # 2. Each settlement's lines sum to its gross, and its transaction carries it.
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

    # 3. Every line: its ledger entries equal its counters (paid, owed, receivable).
    by_line = _sum_by(Entry.objects.filter(line__isnull=False), "line_id", "account__kind")
    tr_ok = _sum_by(Transfer.objects.filter(status=Transfer.Status.SUCCEEDED), "line_id")
    rev_ok = _sum_by(Reversal.objects.filter(status=Reversal.Status.SUCCEEDED), "transfer__line_id")
    rev_open = _sum_by(
        Reversal.objects.filter(status__in=[Reversal.Status.PENDING, Reversal.Status.FAILED]),
        "transfer__line_id",
    )
    rev_recv = _sum_by(
        Reversal.objects.filter(status=Reversal.Status.RECEIVABLE), "transfer__line_id"
    )
    for line in (
        SettlementLine.objects.select_related("settlement").order_by("pk").iterator(chunk_size=2000)
    ):
        ref = f"line {line.pk} ({line.kind} of {line.settlement.order_ref}"
        ref += f", party {line.party_id})" if line.party_id else ")"
        if line.kind == SettlementLine.Kind.PLATFORM_FEE:
            got = by_line.get((line.pk, "platform_revenue"), 0)
            if got != -line.net_cents:
                problems.append(f"{ref}: revenue entries {got}, expected {-line.net_cents}")
            continue
        owed = line.owed_cents
        checks = [
            (
                "owed is negative beyond the reversals in flight",
                owed + rev_open.get(line.pk, 0) < 0,
                owed,
                f">= {-rev_open.get(line.pk, 0)}",
            ),
            (
                "payable entries",
                by_line.get((line.pk, "payable"), 0) != -owed,
                by_line.get((line.pk, "payable"), 0),
                -owed,
            ),
            (
                "paid_out entries",
                by_line.get((line.pk, "paid_out"), 0)
                != -(line.transferred_cents - line.reversed_cents),
                by_line.get((line.pk, "paid_out"), 0),
                -(line.transferred_cents - line.reversed_cents),
            ),
            (
                "receivable entries",
                by_line.get((line.pk, "receivable"), 0)
                != line.receivable_cents - line.offset_cents,
                by_line.get((line.pk, "receivable"), 0),
                line.receivable_cents - line.offset_cents,
            ),
            (
                "succeeded transfers",
                tr_ok.get(line.pk, 0) != line.transferred_cents,
                tr_ok.get(line.pk, 0),
                line.transferred_cents,
            ),
            (
                "succeeded reversals",
                rev_ok.get(line.pk, 0) != line.reversed_cents,
                rev_ok.get(line.pk, 0),
                line.reversed_cents,
            ),
            (
                "receivable reversals",
                rev_recv.get(line.pk, 0) != line.receivable_cents,
                rev_recv.get(line.pk, 0),
                line.receivable_cents,
            ),
            (
                "paid + owed + refunded",
                line.transferred_cents
                - line.reversed_cents
                + owed
                + line.refunded_cents
                + line.offset_cents
                - line.receivable_cents
                != line.amount_cents,
                line.transferred_cents - line.reversed_cents + owed + line.refunded_cents,
                line.amount_cents,
            ),
        ]
        for name, failed, got, want in checks:
            if failed:
                problems.append(f"{ref}: {name} {got}, expected {want}")

    # 4. Per party and currency: account balances equal the sum of their lines.
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

    # 5. Platform cash = gross settled - refunds/disputes still standing.
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


def stripe_reconcile(client=None) -> list[str]:
    """Every transfer and reversal in the ledger matches Stripe's to the cent,
    and every Clearmix transfer at Stripe is in the ledger. Lists via the SDK."""
    from .services import _get
    from .stripe_client import stripe_client

    client = client or stripe_client()
    problems: list[str] = []
    ours = {
        t.stripe_transfer_id: t for t in Transfer.objects.filter(status=Transfer.Status.SUCCEEDED)
    }
    our_revs: dict[str, dict[str, int]] = defaultdict(dict)
    for r in Reversal.objects.filter(status=Reversal.Status.SUCCEEDED).select_related("transfer"):
        our_revs[r.transfer.stripe_transfer_id][r.stripe_reversal_id] = r.amount_cents
    seen: set[str] = set()
    for st in client.v1.transfers.list(params={"limit": 100}).auto_paging_iter():
        tid = _get(st, "id")
        meta = _get(st, "metadata") or {}
        mine = tid in ours or _get(meta, "clearmix_transfer_id")
        if not mine:
            continue  # not a royalties transfer
        seen.add(tid)
        t = ours.get(tid)
        if t is None:
            problems.append(
                f"Stripe transfer {tid} ({_get(st, 'amount')} {_get(st, 'currency')}) "
                f"is not in the ledger (clearmix transfer {_get(meta, 'clearmix_transfer_id')})"
            )
            continue
        for name, got, want in (
            ("amount", _get(st, "amount"), t.amount_cents),
            ("currency", _get(st, "currency"), t.currency),
            ("destination", _get(st, "destination"), t.destination),
        ):
            if got != want:
                problems.append(f"transfer {tid}: Stripe {name} {got}, ledger {want}")
        theirs: dict[str, int] = {}
        reversals = _get(st, "reversals")
        data = _get(reversals, "data") if reversals is not None else None
        has_more = bool(_get(reversals, "has_more")) if reversals is not None else True
        if data is None or has_more:
            data = client.v1.transfers.reversals.list(tid, params={"limit": 100}).auto_paging_iter()
        for rv in data:
            theirs[_get(rv, "id")] = _get(rv, "amount")
        mine_revs = our_revs.get(tid, {})
        for rid, amt in theirs.items():
            if rid not in mine_revs:
                problems.append(f"Stripe reversal {rid} of {tid} ({amt}) is not in the ledger")
            elif mine_revs[rid] != amt:
                problems.append(f"reversal {rid}: Stripe {amt}, ledger {mine_revs[rid]}")
        for rid, amt in mine_revs.items():
            if rid not in theirs:
                problems.append(f"ledger reversal {rid} of {tid} ({amt}) is missing at Stripe")
        if _get(st, "amount_reversed") is not None and _get(st, "amount_reversed") != sum(
            mine_revs.values()
        ):
            problems.append(
                f"transfer {tid}: Stripe amount_reversed {_get(st, 'amount_reversed')}, "
                f"ledger {sum(mine_revs.values())}"
            )
    for tid, t in ours.items():
        if tid not in seen:
            problems.append(
                f"ledger transfer {tid} ({t.amount_cents} {t.currency}) is missing at Stripe"
            )
    return problems
