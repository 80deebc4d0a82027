"""Housekeeping tasks of the marketplace."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from core.queues import DEFAULT
from marketplace import delivery
from marketplace.audit.checks import check_run
from marketplace.billing.fulfilment import order_fulfil, order_list_awaiting_fulfilment
from marketplace.billing.services.customers import billing_customer_scrub
from marketplace.billing.settling import orders_settle_drain
from marketplace.heartbeat import heartbeat_record

# Order work that calls Stripe: retried with backoff while Stripe (or the
# database) is unreachable; the delivery and fulfilment sweeps back it up.
ORDER_WORK_RETRY = {"autoretry_for": (Exception,), "retry_backoff": 10, "retry_backoff_max": 600}


@shared_task(name="marketplace.tasks.heartbeat")
def heartbeat(queue: str = DEFAULT) -> str:
    """Proves a worker consumes `queue` (see marketplace.heartbeat)."""
    return heartbeat_record(queue=queue)


@shared_task(name="marketplace.tasks.order_fulfil", max_retries=8, **ORDER_WORK_RETRY)
def order_fulfil_task(order_id: int) -> str:
    return order_fulfil(order_id=order_id).outcome


@shared_task(name="marketplace.tasks.order_fulfil_sweep")
def order_fulfil_sweep() -> int:
    """Beat: re-drive paid orders that never got settled (a lost message):
    settle what waits in batches, then fulfil what is still unsettled."""
    orders_settle_drain()
    orders = order_list_awaiting_fulfilment()
    for order in orders:
        order_fulfil_task.delay(order.pk)
    return len(orders)


@shared_task(name="marketplace.tasks.audit_check_run")
def audit_check_run(name: str) -> dict:
    """Beat: run one audit integrity check and store its result (CheckRun),
    which the audit dashboard and the auditors' banner show."""
    run = check_run(name=name, triggered_by="beat")
    return {"id": run.pk, "name": name, "status": run.status, "summary": run.summary}


@shared_task(
    name="marketplace.tasks.billing_customer_scrub",
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=10,
)
def billing_customer_scrub_task(user_id: int) -> None:
    """Stripe may be down when an account is deleted: retry until it listens."""
    billing_customer_scrub(user=get_user_model().objects.get(pk=user_id))


@shared_task(name="marketplace.tasks.order_refund_undelivered", max_retries=10, **ORDER_WORK_RETRY)
def order_refund_undelivered_task(remix_id: int) -> str:
    """A paid remix failed for good or was cancelled: give the money back.
    Retried with backoff while Stripe is unreachable; the sweep backs it up."""
    order = delivery.order_refund_undelivered(remix_id=remix_id)
    return "refunded" if order is not None else "nothing to refund"


@shared_task(name="marketplace.tasks.delivery_sweep")
def delivery_sweep() -> dict:
    """Beat: every paid order ends delivered or refunded. Refunds undelivered
    remixes whose refund was lost, gives up on deliveries past the deadline,
    and reconciles pending orders with Stripe (lost webhooks)."""
    return delivery.delivery_sweep_run()
