"""Marketplace's reactions to its own billing signals."""

from __future__ import annotations


def on_order_paid(sender, *, order_id: int, **kwargs) -> None:
    # Runs after the webhook's commit; the work goes to a worker so the
    # webhook answers fast and a failure is retried, not lost.
    from marketplace.tasks import order_fulfil_task

    order_fulfil_task.delay(order_id)
