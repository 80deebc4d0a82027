"""What remixing announces to the apps above it (they subscribe; see DESIGN.md).

`remix_undelivered` is sent once, after commit, when a remix stops for good
without a delivered render: it reached `failed` after its last attempt, or
it was `cancelled` (revocation, takedown, staff). Kwargs: `remix_id: int`,
`status: str` ("failed" or "cancelled"), `reason: str` (plain words, the
same the fan was told). Marketplace refunds a paid order on it.

`remix_published` is sent after commit when a fan publishes a remix.
Kwargs: `remix_id: int`, `fan_id: int`. Marketplace tells the fan's followers.

`remix_played` is sent after commit for every play posted of a published
remix, counted or not. Kwargs: `remix_id: int`, `listener: str` (a keyed
hash, never an address). Marketplace keeps its weekly chart from it.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

remix_undelivered = Signal()
remix_published = Signal()
remix_played = Signal()


def send_on_commit(signal: Signal, **kwargs) -> None:
    """Announce after commit; a subscriber's error is logged, never raised
    into the writer (its own state is already committed)."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                logger.error("%r failed for %s: %r", receiver, kwargs, result)

    transaction.on_commit(send)


def remix_undelivered_send_on_commit(*, remix_id: int, status: str, reason: str) -> None:
    """Announce after commit, so a rolled-back failure announces nothing.
    `send_robust`: a subscriber's error must not undo or re-run the job's
    bookkeeping; it is logged, and the subscriber's own sweep catches up."""

    def send() -> None:
        for receiver, result in remix_undelivered.send_robust(
            sender=None, remix_id=remix_id, status=status, reason=reason
        ):
            if isinstance(result, Exception):
                logger.error(
                    "remix_undelivered receiver %r failed for remix %s: %r",
                    receiver,
                    remix_id,
                    result,
                )

    transaction.on_commit(send)
