"""Links to evidence: every record an auditor sees opens on its own page."""

from __future__ import annotations

from django.db.models import Model
from django.urls import reverse

# model key (used in URLs) -> "app_label.ModelName". Only these open on the
# generic record page: an auditor reads the rights and money records, never
# secrets (no allauth tokens, no sessions).
RECORD_MODELS: dict[str, str] = {
    "consent-event": "catalog.ConsentEvent",
    "consent-state": "catalog.ConsentState",
    "recording": "catalog.Recording",
    "party": "catalog.Party",
    "work": "catalog.Work",
    "split-version": "catalog.SplitVersion",
    "takedown": "catalog.Takedown",
    "staff-audit-entry": "catalog.StaffAuditEntry",
    "remix": "remixing.Remix",
    "remix-event": "remixing.RemixEvent",
    "stem-set": "remixing.StemSet",
    "order": "marketplace.Order",
    "webhook-event": "marketplace.WebhookEvent",
    "check-run": "marketplace.CheckRun",
    "settlement": "royalties.Settlement",
    "settlement-line": "royalties.SettlementLine",
    "settlement-block": "royalties.SettlementBlock",
    "transfer": "royalties.Transfer",
    "reversal": "royalties.Reversal",
    "refund": "royalties.Refund",
    "ledger-transaction": "royalties.LedgerTransaction",
    "payee": "royalties.Payee",
}
KEY_BY_LABEL: dict[str, str] = {label.lower(): key for key, label in RECORD_MODELS.items()}


def record_key(model: type[Model] | Model) -> str | None:
    return KEY_BY_LABEL.get(model._meta.label_lower)


def record_url(obj_or_model: Model | type[Model], pk: object | None = None) -> str | None:
    """The evidence page of one record, or None for a model we do not show."""
    key = record_key(obj_or_model)
    if key is None:
        return None
    pk = obj_or_model.pk if pk is None else pk
    if pk is None:
        return None
    return reverse("marketplace:audit_record", args=[key, pk])


def remix_trail_url(remix_id: int) -> str:
    return reverse("marketplace:audit_remix_trail", args=[remix_id])
