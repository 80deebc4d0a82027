"""The simulated clock and billing-interval arithmetic.

Sandbox time is real time plus an offset that only ever grows (test hooks
advance it). Every ``created``/period timestamp uses sandbox time, while
webhook signatures use *real* time so ``stripe.Webhook.construct_event``'s
five-minute tolerance still holds after the clock has been advanced by months.
"""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime, timedelta


class SimClock:
    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> int:
        return int(time.time() + self.offset)

    def advance_to(self, timestamp: int) -> None:
        """Move sandbox time forward to ``timestamp`` (never backwards).

        Half a second of slack makes ``now()`` land on ``timestamp`` rather than one second
        before it through float rounding, so work due "at" that instant is due.
        """
        target_offset = timestamp - time.time() + 0.5
        if target_offset > self.offset:
            self.offset = target_offset


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    # Clamp the day like Stripe: a Jan 31 anchor bills on Feb 28/29, then Mar 31.
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_boundary(anchor: int, interval: str, interval_count: int, periods: int) -> int:
    """Timestamp of the end of period number ``periods`` counted from ``anchor``.

    Computing from the anchor (not from the previous period end) keeps month-end anchors from
    drifting to the 28th after February.
    """
    start = datetime.fromtimestamp(anchor, tz=UTC)
    steps = interval_count * periods
    if interval == "day":
        end = start + timedelta(days=steps)
    elif interval == "week":
        end = start + timedelta(weeks=steps)
    elif interval == "month":
        end = _add_months(start, steps)
    elif interval == "year":
        end = _add_months(start, 12 * steps)
    else:  # pragma: no cover - validated at price creation
        raise ValueError(f"unknown interval {interval}")
    return int(end.timestamp())
