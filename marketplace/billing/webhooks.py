"""The Stripe webhook pipeline: verify, store once, fetch, then apply.

1. `webhook_event_verify` checks the signature over the raw body.
2. `webhook_event_process` stores the event once by its id (a duplicate of an
   event already handled stops here), runs each handler's `fetch` — every read
   from Stripe — with no transaction open, then runs each handler's `apply` in
   one transaction that locks the event's row and marks it processed. Either
   the event is recorded as processed together with all of its effects, or
   nothing is and the endpoint answers 500 so Stripe retries. Side effects run
   on commit.

The handlers are listed in one table, `handlers.HANDLERS`, keyed by event type.
They must be idempotent and must not move state backwards (events come twice
and out of order).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.json_limits import JSONRejected, json_depth_check
from marketplace.models import WebhookEvent

from .handlers import WebhookHandler, handlers_for
from .stripe_client import object_id, sget, stripe_time

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300


class BadWebhook(Exception):
    """The request is not a genuine, fresh Stripe event: answer 400."""


WEBHOOK_MAX_DEPTH = 64


def webhook_event_verify(*, payload: bytes, signature: str | None) -> stripe.Event:
    """Verify the signature over the raw body (never a re-serialised one)."""
    if not signature:
        raise BadWebhook("Missing Stripe-Signature header.")
    try:
        # Before the SDK's json.loads: a body nested thousands deep is refused,
        # not a RecursionError. Stripe's events nest far less than this.
        json_depth_check(payload.decode("utf-8", errors="replace"), max_depth=WEBHOOK_MAX_DEPTH)
    except JSONRejected as exc:
        raise BadWebhook(str(exc)) from exc
    try:
        return stripe.Webhook.construct_event(
            payload,
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as exc:
        raise BadWebhook(f"Bad signature: {exc.user_message or exc}") from exc
    except ValueError as exc:
        raise BadWebhook("Payload is not a Stripe event.") from exc


@dataclass(frozen=True)
class WebhookOutcome:
    event: WebhookEvent
    duplicate: bool


def _event_created(event: stripe.Event) -> datetime | None:
    return stripe_time(sget(event, "created"))


def webhook_event_store(*, event: stripe.Event, payload: dict) -> WebhookEvent:
    """The event's row, created on first sight (its own short transaction).

    A concurrent first delivery of the same id loses on the unique index and
    reads the winner's row instead."""
    event_id = str(sget(event, "id"))
    row = WebhookEvent.objects.filter(stripe_event_id=event_id).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                stripe_event_id=event_id,
                type=str(sget(event, "type", default="")),
                api_version=str(sget(event, "api_version", default="") or ""),
                livemode=bool(sget(event, "livemode", default=False)),
                stripe_created=_event_created(event),
                object_id=object_id(sget(event, "data", "object")),
                payload=payload,
            )
    except IntegrityError:
        return WebhookEvent.objects.get(stripe_event_id=event_id)


def _duplicate(row: WebhookEvent) -> WebhookOutcome:
    WebhookEvent.objects.filter(pk=row.pk).update(duplicates=F("duplicates") + 1)
    row.refresh_from_db()
    return WebhookOutcome(event=row, duplicate=True)


def _apply(
    row_id: int, event: stripe.Event, handlers: tuple[WebhookHandler, ...], fetched: list[Any]
) -> WebhookOutcome:
    """Run every handler's apply and mark the event done, in one transaction.

    The row lock makes concurrent deliveries of one event take turns: the
    first runs the handlers, the others then find it done."""
    with transaction.atomic():
        row = WebhookEvent.objects.select_for_update().get(pk=row_id)
        if row.status in WebhookEvent.DONE:
            return _duplicate(row)
        row.attempts += 1
        for handler, answer in zip(handlers, fetched, strict=True):
            handler.apply(event, answer)
        row.status = WebhookEvent.Status.PROCESSED if handlers else WebhookEvent.Status.IGNORED
        row.handlers = [handler.name for handler in handlers]
        row.processed_at = timezone.now()
        row.last_error = ""
        row.save()
        return WebhookOutcome(event=row, duplicate=False)


def webhook_event_process(*, event: stripe.Event, payload: bytes) -> WebhookOutcome:
    """Store the event once, read Stripe for its handlers, then apply them.

    Raises whatever a handler raised (after recording the failure in its own
    transaction) so the view answers 500 and Stripe retries.
    """
    body = json.loads(payload)
    try:
        row = webhook_event_store(event=event, payload=body)
        if row.status in WebhookEvent.DONE:
            return _duplicate(row)  # already handled (sequential duplicate)
        handlers = handlers_for(row.type)
        fetched = [handler.fetch(event) for handler in handlers]
        return _apply(row.pk, event, handlers, fetched)
    except Exception as exc:
        _record_failure(event=event, body=body, exc=exc)
        raise


def _record_failure(*, event: stripe.Event, body: dict, exc: Exception) -> None:
    """Best effort: show staff why an event failed. Stripe retries it anyway."""
    logger.exception("Stripe webhook %s failed", sget(event, "id"))
    try:
        row = webhook_event_store(event=event, payload=body)
        with transaction.atomic():
            row = WebhookEvent.objects.select_for_update().get(pk=row.pk)
            if row.status in WebhookEvent.DONE:
                return
            row.status = WebhookEvent.Status.FAILED
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:4000]
            row.save(update_fields=["status", "attempts", "last_error"])
    except Exception:  # the database itself may be why we failed
        logger.exception("Could not record the failure of Stripe event %s", sget(event, "id"))
