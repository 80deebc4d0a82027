"""The Stripe webhook pipeline: verify, store once, dispatch by type.

Other apps register handlers here (royalties for account.updated, charge.*,
charge.dispute.*, transfer.*). A handler is `fn(event: stripe.Event) -> None`;
it runs inside the same transaction that stores the event, so either the event
is recorded as processed together with all of its effects, or nothing is and
the endpoint answers 500 so Stripe retries. Handlers must be idempotent and
must not move state backwards (events come twice and out of order).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.models import WebhookEvent

from .stripe_client import object_id, sget

logger = logging.getLogger(__name__)

Handler = Callable[[stripe.Event], None]

_registry: dict[str, list[Handler]] = {}

SIGNATURE_TOLERANCE_SECONDS = 300


def register_handler(event_type: str, fn: Handler) -> Handler:
    """Register `fn` for `event_type` (exact type, e.g. "charge.dispute.created").

    Registering the same function twice is a no-op, so calling this from
    AppConfig.ready() (which may run more than once in tests) is safe.
    Handlers for one type run in registration order.
    """
    handlers = _registry.setdefault(event_type, [])
    if fn not in handlers:
        handlers.append(fn)
    return fn


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Decorator form of register_handler."""

    def decorate(fn: Handler) -> Handler:
        for event_type in event_types:
            register_handler(event_type, fn)
        return fn

    return decorate


def unregister_handler(event_type: str, fn: Handler) -> None:
    handlers = _registry.get(event_type, [])
    if fn in handlers:
        handlers.remove(fn)


def handlers_for(event_type: str) -> list[Handler]:
    # Importing registers marketplace's own handlers (subscriptions, orders).
    from . import handlers  # noqa: F401

    return list(_registry.get(event_type, []))


class BadWebhook(Exception):
    """The request is not a genuine, fresh Stripe event: answer 400."""


def webhook_event_verify(*, payload: bytes, signature: str | None) -> stripe.Event:
    """Verify the signature over the raw body (never a re-serialised one)."""
    if not signature:
        raise BadWebhook("Missing Stripe-Signature header.")
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
    created = sget(event, "created")
    return datetime.fromtimestamp(int(created), tz=UTC) if created else None


def _claim(event: stripe.Event, payload: dict) -> tuple[WebhookEvent, bool]:
    """Lock the row for this event id, creating it if new. Returns (row, created).

    On PostgreSQL a concurrent duplicate blocks on the unique index until the
    first transaction ends, then sees IntegrityError and re-reads the committed
    row under lock: so exactly one thread runs the handlers.
    """
    event_id = str(sget(event, "id"))
    row = WebhookEvent.objects.select_for_update().filter(stripe_event_id=event_id).first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                stripe_event_id=event_id,
                type=str(sget(event, "type", default="")),
                api_version=str(sget(event, "api_version", default="") or ""),
                livemode=bool(sget(event, "livemode", default=False)),
                stripe_created=_event_created(event),
                object_id=object_id(sget(event, "data", "object")),
                payload=payload,
            )
        return row, True
    except IntegrityError:
        return WebhookEvent.objects.select_for_update().get(stripe_event_id=event_id), False


def webhook_event_process(*, event: stripe.Event, payload: bytes) -> WebhookOutcome:
    """Store the event once and run its handlers, all in one transaction.

    Raises whatever a handler raised (after recording the failure in its own
    transaction) so the view answers 500 and Stripe retries.
    """
    body = json.loads(payload)
    try:
        with transaction.atomic():
            row, _created = _claim(event, body)
            if row.status in WebhookEvent.DONE:
                # Already handled (sequential or concurrent duplicate).
                WebhookEvent.objects.filter(pk=row.pk).update(duplicates=row.duplicates + 1)
                return WebhookOutcome(event=row, duplicate=True)
            handlers = handlers_for(row.type)
            row.attempts += 1
            for handler in handlers:
                handler(event)
            row.status = WebhookEvent.Status.PROCESSED if handlers else WebhookEvent.Status.IGNORED
            row.handlers = [f"{h.__module__}.{h.__qualname__}" for h in handlers]
            row.processed_at = timezone.now()
            row.last_error = ""
            row.save()
            return WebhookOutcome(event=row, duplicate=False)
    except Exception as exc:
        _record_failure(event=event, body=body, exc=exc)
        raise


def _record_failure(*, event: stripe.Event, body: dict, exc: Exception) -> None:
    """Best effort: show staff why an event failed. Stripe retries it anyway."""
    logger.exception("Stripe webhook %s failed", sget(event, "id"))
    try:
        with transaction.atomic():
            row, _ = _claim(event, body)
            if row.status in WebhookEvent.DONE:
                return
            row.status = WebhookEvent.Status.FAILED
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:4000]
            row.save(update_fields=["status", "attempts", "last_error"])
    except Exception:  # the database itself may be why we failed
        logger.exception("Could not record the failure of Stripe event %s", sget(event, "id"))
