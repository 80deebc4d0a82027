"""The Stripe events we received about the remix's orders."""

from __future__ import annotations

from marketplace.audit.links import record_url
from marketplace.models import WebhookEvent

from .items import TrailItem


def webhook_list(stripe_ids: set[str]) -> list[WebhookEvent]:
    return list(
        WebhookEvent.objects.filter(object_id__in=stripe_ids)
        .only("id", "stripe_event_id", "type", "status", "received_at", "object_id")
        .order_by("received_at")
    )


def webhook_items(webhooks: list[WebhookEvent]) -> list[TrailItem]:
    return [
        TrailItem(
            hook.received_at,
            "stripe",
            f"Stripe event {hook.type}",
            f"{hook.stripe_event_id} about {hook.object_id}",
            "ok" if hook.status in WebhookEvent.DONE else "warn",
            hook.status,
            record_url(hook),
            f"Webhook event #{hook.pk}",
        )
        for hook in webhooks
    ]
