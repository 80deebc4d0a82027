"""The payout sweep: pay what is owed to parties that can receive, and retry
the transfers and reversals whose backoff is over. Run by beat, when an
account becomes able to receive, and by the `payouts_sweep` command."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from royalties import enqueue
from royalties.models import Payee, Reversal, SettlementLine, Transfer

from .movements import TransferNotDone
from .reversals import OPEN as OPEN_REVERSALS
from .reversals import reversal_execute
from .transfers import OPEN as OPEN_TRANSFERS
from .transfers import transfer_line_pay


def lines_owed(party_id: int | None = None) -> QuerySet[SettlementLine]:
    """Lines that still owe their party something, annotated with `owed`."""
    qs = (
        SettlementLine.objects.exclude(kind=SettlementLine.Kind.PLATFORM_FEE)
        .annotate(owed=SettlementLine.owed_expression())
        .filter(owed__gt=0)
    )
    if party_id is not None:
        qs = qs.filter(party_id=party_id)
    return qs


def _due(force: bool) -> Q:
    if force:
        return Q()
    return Q(next_attempt_at__lte=timezone.now()) | Q(next_attempt_at__isnull=True)


def _reversals_due(party_id: int | None, force: bool) -> list[int]:
    qs = Reversal.objects.filter(_due(force), status__in=OPEN_REVERSALS)
    if party_id is not None:
        qs = qs.filter(transfer__party_id=party_id)
    return list(qs.values_list("pk", flat=True))


def _lines_due(party_id: int | None, force: bool) -> list[int]:
    """Owed lines of receiving parties, and lines whose transfer is due again."""
    receiving = Payee.objects.filter(
        charges_enabled=True,
        payouts_enabled=True,
        transfers_active=True,
        stripe_account_id__isnull=False,
    )
    if party_id is not None:
        receiving = receiving.filter(party_id=party_id)
    parties = receiving.values("party_id")
    line_ids = set(lines_owed(party_id).filter(party_id__in=parties).values_list("pk", flat=True))
    line_ids |= set(
        Transfer.objects.filter(
            _due(force), status__in=OPEN_TRANSFERS, party_id__in=parties
        ).values_list("line_id", flat=True)
    )
    return sorted(line_ids)


def payouts_sweep(
    *, party_id: int | None = None, run_inline: bool = False, force: bool = False
) -> dict:
    """Pay what is owed to parties that can receive, and retry what is due.

    Returns counts. With run_inline the work is done here (commands, tests);
    otherwise it is queued as one task per line / transfer / reversal.
    """
    reversal_ids = _reversals_due(party_id, force)
    result = {"lines": 0, "reversals": len(reversal_ids), "errors": 0}
    if run_inline:
        # Reversals first: one that lands can leave its line owed again.
        for reversal_id in reversal_ids:
            try:
                reversal_execute(reversal_id=reversal_id)
            except TransferNotDone:
                result["errors"] += 1
    line_ids = _lines_due(party_id, force)
    result["lines"] = len(line_ids)
    if run_inline:
        for line_id in line_ids:
            try:
                transfer_line_pay(line_id=line_id, force=force)
            except TransferNotDone:
                result["errors"] += 1
        return result
    # Sent now: the sweep does not run in a transaction.
    for reversal_id in reversal_ids:
        enqueue.task_send(enqueue.REVERSAL_EXECUTE, reversal_id)
    for line_id in line_ids:
        enqueue.task_send(enqueue.TRANSFER_LINE, line_id)
    return result
