"""The one Stripe webhook endpoint."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.billing.webhooks import BadWebhook, webhook_event_process, webhook_event_verify

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe cannot send a CSRF token; the signature authenticates it.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    payload = request.body  # the raw bytes Stripe signed
    try:
        event = webhook_event_verify(
            payload=payload, signature=request.headers.get("Stripe-Signature")
        )
    except BadWebhook as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    try:
        outcome = webhook_event_process(event=event, payload=payload)
    except Exception:
        # Not committed: 500 makes Stripe retry later. Details are in the log
        # and on the event's row (status "failed").
        return JsonResponse({"error": "Could not process this event; retry later."}, status=500)
    return JsonResponse(
        {
            "id": outcome.event.stripe_event_id,
            "status": outcome.event.status,
            "duplicate": outcome.duplicate,
        }
    )
