"""Read-only admin views for staff: the ledger is never edited by hand."""

from __future__ import annotations

from django.contrib import admin

from .models import (
    Account,
    LedgerTransaction,
    Payee,
    Refund,
    Reversal,
    Settlement,
    SettlementBlock,
    Transfer,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SettlementBlock)
class SettlementBlockAdmin(ReadOnly):
    list_display = ["order_ref", "reason", "created_at", "resolved_at"]
    list_filter = ["resolved_at"]
    search_fields = ["order_ref"]


@admin.register(Settlement)
class SettlementAdmin(ReadOnly):
    list_display = ["order_ref", "gross_cents", "currency", "remix_ref", "created_at"]
    search_fields = ["order_ref", "charge_id", "remix_ref"]


@admin.register(Transfer)
class TransferAdmin(ReadOnly):
    list_display = [
        "idempotency_key",
        "party",
        "amount_cents",
        "currency",
        "status",
        "attempts",
        "stripe_transfer_id",
        "next_attempt_at",
    ]
    list_filter = ["status"]


@admin.register(Reversal)
class ReversalAdmin(ReadOnly):
    list_display = ["idempotency_key", "amount_cents", "status", "stripe_reversal_id"]
    list_filter = ["status"]


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = ["external_id", "kind", "amount_cents", "status", "created_at"]


@admin.register(Payee)
class PayeeAdmin(ReadOnly):
    list_display = [
        "party",
        "stripe_account_id",
        "charges_enabled",
        "payouts_enabled",
        "transfers_active",
    ]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnly):
    list_display = ["pk", "reason", "ref", "idempotency_key", "created_at"]
    list_filter = ["reason"]
    search_fields = ["ref", "idempotency_key"]


@admin.register(Account)
class AccountAdmin(ReadOnly):
    list_display = ["kind", "party", "currency"]
    list_filter = ["kind", "currency"]
