"""The royalties ledger and the operational records around it.

Money is integer minor units plus a currency code, everywhere.

The ledger (Account, LedgerTransaction, Entry) is double-entry and append-only:
each transaction's entries sum to zero per currency, and rows are never updated
or deleted — the database enforces both on PostgreSQL (migration 0002). An
entry's amount is signed: debit positive, credit negative. Balances are sums of
entries, and each account's balance is also kept in an `AccountBalance` row
that every posting updates in the same database transaction, so dashboards
and payouts read one row instead of summing history; `verify_ledger` checks
that every balance row equals the sum of its account's entries.

Accounts (one per kind, party and currency):

- ``platform_cash``   (debit-normal)  money collected at Stripe for the platform
  and its rights holders, less refunds and disputes.
- ``platform_revenue`` (credit-normal) the platform fee earned.
- ``payable``  per party (credit-normal) earned and not yet transferred: what is owed.
- ``paid_out`` per party (credit-normal) what has been transferred to the
  party's Stripe account, net of reversals. The platform's own Stripe balance
  is ``platform_cash + Σ paid_out`` (paid_out balances are negative).
- ``receivable`` per party (debit-normal) money a party owes back because a
  transfer reversal failed; offset against their next earnings.

Settlement, SettlementLine, Transfer, Reversal, Refund… are operational records
that point at the ledger transactions they caused; `verify_ledger` checks that
both agree.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When


class Account(models.Model):
    class Kind(models.TextChoices):
        PLATFORM_CASH = "platform_cash", "Platform cash at Stripe"
        PLATFORM_REVENUE = "platform_revenue", "Platform revenue"
        PAYABLE = "payable", "Payable to party"
        PAID_OUT = "paid_out", "Paid out to party"
        RECEIVABLE = "receivable", "Receivable from party"

    PARTY_KINDS = ("payable", "paid_out", "receivable")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    party = models.ForeignKey(
        "catalog.Party",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "party_id", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "party", "currency"],
                condition=Q(party__isnull=False),
                name="royalties_account_unique_party",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=Q(party__isnull=True),
                name="royalties_account_unique_platform",
            ),
            models.CheckConstraint(
                name="royalties_account_party_matches_kind",
                condition=(
                    Q(kind__in=["payable", "paid_out", "receivable"], party__isnull=False)
                    | Q(kind__in=["platform_cash", "platform_revenue"], party__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="royalties_account_currency_lower",
                condition=Q(currency__regex=r"^[a-z]{3}$"),
            ),
        ]

    def __str__(self) -> str:
        who = f" · party {self.party_id}" if self.party_id else ""
        return f"{self.get_kind_display()}{who} ({self.currency})"


class AccountBalance(models.Model):
    """An account's balance: the sum of its entries, updated by every posting
    in the posting's own database transaction (never written elsewhere)."""

    account = models.OneToOneField(
        Account, primary_key=True, on_delete=models.PROTECT, related_name="balance"
    )
    balance_cents = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.balance_cents:+d} on account {self.account_id}"


class LedgerTransaction(models.Model):
    class Reason(models.TextChoices):
        SETTLEMENT = "settlement", "Remix sale settled"
        TRANSFER = "transfer", "Transfer to party"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute opened"
        DISPUTE_WON = "dispute_won", "Dispute won: funds reinstated"
        REVERSAL = "reversal", "Transfer reversed"
        RECEIVABLE = "receivable", "Reversal failed: receivable from party"
        OFFSET = "offset", "Receivable offset against earnings"
        CORRECTION = "correction", "Correction (reversing transaction)"

    idempotency_key = models.CharField(max_length=200, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    ref = models.CharField(max_length=200, blank=True, db_index=True)
    memo = models.CharField(max_length=300, blank=True)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.reason} {self.ref}"


class Entry(models.Model):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount_cents = models.BigIntegerField(help_text="Debit positive, credit negative.")
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField()
    # The settlement line this entry concerns, when it concerns one: lets the
    # dashboards show earnings by recording and month without a join storm.
    line = models.ForeignKey(
        "SettlementLine", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["account", "currency"], name="royalties_entry_acct_cur"),
            models.Index(fields=["account", "created_at"], name="royalties_entry_acct_time"),
        ]
        constraints = [
            models.CheckConstraint(name="royalties_entry_nonzero", condition=~Q(amount_cents=0)),
            models.CheckConstraint(
                name="royalties_entry_currency_lower", condition=Q(currency__regex=r"^[a-z]{3}$")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents:+d} {self.currency} → account {self.account_id}"


class SettlementBlock(models.Model):
    """A paid order the ledger refused to settle (bad split). Staff must act."""

    order_ref = models.CharField(max_length=120, unique=True)
    reason = models.CharField(max_length=300)
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Settlement blocked for {self.order_ref}: {self.reason}"


class Settlement(models.Model):
    order_ref = models.CharField(max_length=120, unique=True)
    gross_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    charge_id = models.CharField(max_length=120, db_index=True)
    transfer_group = models.CharField(max_length=120)
    remix_ref = models.CharField(max_length=120, blank=True, db_index=True)
    recording = models.ForeignKey(
        "catalog.Recording",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlements",
    )
    master_split_version = models.ForeignKey(
        "catalog.SplitVersion", on_delete=models.PROTECT, related_name="+"
    )
    publishing_split_version = models.ForeignKey(
        "catalog.SplitVersion", on_delete=models.PROTECT, related_name="+"
    )
    platform_fee_bps = models.PositiveIntegerField()
    master_pool_bps = models.PositiveIntegerField()
    transaction = models.OneToOneField(
        LedgerTransaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlement",
        help_text="Set in the same database transaction that creates the settlement.",
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="royalties_settlement_gross_pos", condition=Q(gross_cents__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"Settlement {self.order_ref} ({self.gross_cents} {self.currency})"


# What a line owes its party, as (counter, sign): the one definition behind
# `SettlementLine.owed_cents` and `SettlementLine.owed_expression()`.
OWED_TERMS: tuple[tuple[str, int], ...] = (
    ("amount_cents", 1),
    ("refunded_cents", -1),
    ("offset_cents", -1),
    ("transferred_cents", -1),
    ("reversed_cents", 1),
    ("receivable_cents", 1),
)


class SettlementLine(models.Model):
    """One line of a settlement's split. The counters are operational; the
    ledger is the truth and `verify_ledger` checks they agree.

    owed = amount - refunded - offset - transferred + reversed + receivable
    """

    class Kind(models.TextChoices):
        PLATFORM_FEE = "platform_fee", "Platform fee"
        MASTER = "master", "Master"
        PUBLISHING = "publishing", "Publishing"

    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    party = models.ForeignKey(
        "catalog.Party",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlement_lines",
    )
    bps = models.PositiveIntegerField(default=0)
    amount_cents = models.BigIntegerField()
    refunded_cents = models.BigIntegerField(default=0)
    offset_cents = models.BigIntegerField(default=0)
    transferred_cents = models.BigIntegerField(default=0)
    reversed_cents = models.BigIntegerField(default=0)
    receivable_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["settlement_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "kind", "party"], name="royalties_line_unique_party"
            ),
            models.CheckConstraint(
                name="royalties_line_party_matches_kind",
                condition=Q(kind="platform_fee", party__isnull=True)
                | Q(kind__in=["master", "publishing"], party__isnull=False),
            ),
            models.CheckConstraint(
                name="royalties_line_amount_nonneg", condition=Q(amount_cents__gte=0)
            ),
            models.CheckConstraint(
                name="royalties_line_refund_range",
                condition=Q(refunded_cents__gte=0, refunded_cents__lte=F("amount_cents")),
            ),
        ]
        indexes = [models.Index(fields=["party", "kind"], name="royalties_line_party")]

    def __str__(self) -> str:
        return f"{self.kind} line of {self.settlement.order_ref}: {self.amount_cents}"

    @property
    def owed_cents(self) -> int:
        """What the line's party is still owed (0 for the platform fee)."""
        if self.kind == self.Kind.PLATFORM_FEE:
            return 0
        return sum(sign * getattr(self, name) for name, sign in OWED_TERMS)

    @classmethod
    def owed_expression(cls) -> models.Expression:
        """`owed_cents` as a query expression (annotate, filter, Sum), built from
        the same terms so the two cannot drift apart."""
        (first, _), *rest = OWED_TERMS
        total: models.Expression = F(first)
        for name, sign in rest:
            total = total + F(name) if sign > 0 else total - F(name)
        return Case(
            When(kind=cls.Kind.PLATFORM_FEE, then=Value(0)),
            default=total,
            output_field=models.BigIntegerField(),
        )

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


class Payee(models.Model):
    """A party's Stripe Connect Express account and whether money can flow to it."""

    party = models.OneToOneField("catalog.Party", on_delete=models.PROTECT, related_name="payee")
    stripe_account_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    account_idempotency_key = models.CharField(max_length=200, blank=True)
    link_seq = models.PositiveIntegerField(default=0)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    transfers_active = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements_due = models.JSONField(default=list, blank=True)
    last_event_created = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Payee {self.party_id} → {self.stripe_account_id or 'not onboarded'}"

    @property
    def can_receive(self) -> bool:
        return bool(
            self.stripe_account_id
            and self.charges_enabled
            and self.payouts_enabled
            and self.transfers_active
        )

    @property
    def status(self) -> str:
        if self.can_receive:
            return "active"
        if not self.stripe_account_id:
            return "not_started"
        if self.details_submitted:
            return "pending_review"
        return "incomplete"


class Transfer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed, will retry"
        CANCELED = "canceled", "Canceled"

    line = models.ForeignKey(SettlementLine, on_delete=models.PROTECT, related_name="transfers")
    seq = models.PositiveIntegerField()
    party = models.ForeignKey("catalog.Party", on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    destination = models.CharField(max_length=120)
    transfer_group = models.CharField(max_length=120)
    source_transaction = models.CharField(max_length=120)
    idempotency_key = models.CharField(max_length=200, unique=True)
    generation = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_transfer_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    ledger_transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["line", "seq"], name="royalties_transfer_line_seq"),
            models.CheckConstraint(
                name="royalties_transfer_amount_pos", condition=Q(amount_cents__gt=0)
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="royalties_tr_status")]

    def __str__(self) -> str:
        return f"Transfer {self.idempotency_key} {self.amount_cents} {self.status}"


class Refund(models.Model):
    """A refund or a dispute against a settled order, spread over its lines."""

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"

    class Status(models.TextChoices):
        POSTED = "posted", "Posted"
        REINSTATED = "reinstated", "Dispute won, reinstated"
        LOST = "lost", "Dispute lost"

    external_id = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.POSTED)
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="refund"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="royalties_refund_amount_pos", condition=Q(amount_cents__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}: {self.amount_cents}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(SettlementLine, on_delete=models.PROTECT, related_name="refund_lines")
    amount_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["refund", "line"], name="royalties_refundline_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents} of {self.refund_id} on line {self.line_id}"


class Reversal(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Reversing"
        SUCCEEDED = "succeeded", "Reversed"
        RECEIVABLE = "receivable", "Reversal failed: owed by party"
        FAILED = "failed", "Failed, will retry"
        CANCELED = "canceled", "Canceled (no longer needed, never applied)"

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="reversals")
    seq = models.PositiveIntegerField()
    amount_cents = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    generation = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_reversal_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    ledger_transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "seq"], name="royalties_reversal_seq"),
            models.CheckConstraint(
                name="royalties_reversal_amount_pos", condition=Q(amount_cents__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"Reversal {self.idempotency_key} {self.amount_cents} {self.status}"


class OnboardingAttempt(models.Model):
    """An AccountLink we asked Stripe for: the idempotency key is saved first."""

    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="links")
    idempotency_key = models.CharField(max_length=200, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.idempotency_key
