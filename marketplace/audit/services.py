"""Writes of the audit area: staff actions, each recorded in the staff audit
log in the same transaction as the action itself, and export logging."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.handles import EMAIL_RE
from catalog.audit_log import staff_audit_append
from catalog.models import StaffAuditEntry
from core.errors import DomainError, NotFound, PermissionDenied
from marketplace.billing.services.refunds import order_refund_full
from marketplace.models import CheckRun, Order
from marketplace.staff_actions import Action
from royalties.ledger import ledger_reverse
from royalties.models import LedgerTransaction, Transfer
from royalties.tasks import transfer_line

from . import checks


def _require_auditor(actor: Any) -> None:
    if not (actor and getattr(actor, "is_authenticated", False) and actor.is_auditor):
        raise PermissionDenied("Only staff auditors can do this.")


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "Give a reason; it goes into the audit log.", fields={"reason": ["Required."]}
        )
    return reason


@transaction.atomic
def staff_order_refund(*, order: Order, actor: Any, reason: str) -> Order:
    """A staff refund of a paid order, in full.

    The audit entry and the refund share one transaction: if Stripe refuses,
    both roll back and the log shows nothing happened. The price is a row lock
    held across the Stripe call, acceptable for a rare staff action. The
    ledger side (reversals) follows from Stripe's charge.refunded webhook, as
    for any refund.
    """
    _require_auditor(actor)
    reason = _require_reason(reason)
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.paid_at is None:
        raise DomainError("This order was never paid.", code="not_paid")
    staff_audit_append(
        actor=actor,
        action=Action.ORDER_REFUND,
        subject_type="order",
        subject_id=order.pk,
        reason=reason,
        data={
            "remix_id": order.remix_id,
            "amount_cents": order.amount_cents,
            "already_refunded_cents": order.refunded_cents,
            "currency": order.currency,
            "charge": order.stripe_charge_id,
        },
    )
    return order_refund_full(order=order, reason=reason)


@transaction.atomic
def staff_transfer_retry(*, transfer_id: int, actor: Any, reason: str) -> None:
    """Ask for a failed transfer to be sent again now, rather than at its
    backoff time. The audit entry is written with the request; the transfer
    itself goes out after commit on a worker (never a Stripe call inside a
    database transaction), with the line's same idempotency rules."""
    _require_auditor(actor)
    reason = _require_reason(reason)
    transfer = Transfer.objects.select_for_update().filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound(f"There is no transfer #{transfer_id}.")
    if transfer.status != Transfer.Status.FAILED:
        raise DomainError(
            f"Transfer #{transfer.pk} is {transfer.get_status_display().lower()}, not failed.",
            code="not_failed",
        )
    staff_audit_append(
        actor=actor,
        action=Action.TRANSFER_RETRY,
        subject_type="transfer",
        subject_id=transfer.pk,
        reason=reason,
        data={
            "line_id": transfer.line_id,
            "party_id": transfer.party_id,
            "amount_cents": transfer.amount_cents,
            "currency": transfer.currency,
            "attempts": transfer.attempts,
        },
    )
    transaction.on_commit(lambda: transfer_line.delay(transfer.line_id))


@transaction.atomic
def staff_ledger_correction(*, txn_id: int, actor: Any, reason: str):
    """A manual correction: post the reversing transaction of a ledger
    transaction (royalties.ledger.ledger_reverse), logged in the same
    database transaction. No page offers it yet; it is for the shell and
    runbooks, so that even hand corrections leave a trace."""
    _require_auditor(actor)
    reason = _require_reason(reason)
    txn = LedgerTransaction.objects.get(pk=txn_id)
    correction = ledger_reverse(txn=txn, key=f"correction:{txn.pk}", memo=reason[:300])
    staff_audit_append(
        actor=actor,
        action=Action.CORRECTION,
        subject_type="ledger_transaction",
        subject_id=txn.pk,
        reason=reason,
        data={"correction_transaction_id": correction.pk},
    )
    return correction


@transaction.atomic
def export_record(
    *, actor: Any, export: str, filters: dict | None = None, rows: int
) -> StaffAuditEntry:
    """Log that an auditor took data out of the system (who, what, which filters)."""
    _require_auditor(actor)
    return staff_audit_append(
        actor=actor,
        action=Action.EXPORT,
        subject_type="export",
        subject_id=export,
        reason=f"CSV export of {export}",
        data={"filters": _without_emails(filters or {}), "rows": rows},
    )


def _without_emails(filters: dict) -> dict:
    # The log is append-only and hashed: an address typed into a filter could
    # never be erased from it, so it is recorded only as having been there.
    return {
        key: EMAIL_RE.sub("[email address]", value) if isinstance(value, str) else value
        for key, value in filters.items()
    }


def check_run_now(*, name: str, actor: Any) -> CheckRun:
    """An auditor asks for a check now instead of waiting for beat."""
    _require_auditor(actor)
    return checks.check_run(name=name, triggered_by=f"@{actor.handle}")
