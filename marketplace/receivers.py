"""Marketplace's reactions to signals: its own billing signals and remixing's."""

from __future__ import annotations

from marketplace.discovery import services as discovery
from marketplace.tasks import order_fulfil_task, order_refund_undelivered_task


def on_order_paid(sender, *, order_id: int, **kwargs) -> None:
    # Runs after the webhook's commit; the work goes to a worker so the
    # webhook answers fast and a failure is retried, not lost.
    order_fulfil_task.delay(order_id)


def on_remix_undelivered(sender, *, remix_id: int, **kwargs) -> None:
    # Sent after commit by remixing. Refunding calls Stripe, so it runs in a
    # task (retried with backoff); the delivery sweep catches a lost one.
    order_refund_undelivered_task.delay(remix_id)


def on_remix_played(sender, *, remix_id: int, listener: str, **kwargs) -> None:
    discovery.remix_weekly_play_record(remix_id=remix_id, listener=listener)


def on_remix_published(sender, *, remix_id: int, **kwargs) -> None:
    discovery.notices_new_remix(remix_id=remix_id)


def on_consent_changed(sender, *, recording_ids, kind: str = "", **kwargs) -> None:
    # A grant (per track or catalog-wide) opts tracks in: tell the artist's followers.
    if kind == "grant":
        discovery.notices_new_tracks(recording_ids=recording_ids)


def on_rights_changed(sender, *, recording_ids, **kwargs) -> None:
    # A new upload under a catalog-wide grant is opted in without a new event.
    discovery.notices_new_tracks(recording_ids=recording_ids)
