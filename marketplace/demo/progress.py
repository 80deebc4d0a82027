"""A short, readable start: one line per step, with how long it usually takes.

The demo's first command is read by a newcomer; everything else (worker
banners, request logs, installer chatter) goes to log files. Knows nothing of
Django, so it is tested on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Progress:
    """Prints "[2/6] Starting the Stripe sandbox (usually 2 s)… done in 1.3 s"."""

    def __init__(self, *, total: int, write: Callable[[str], None]):
        self.total, self.write = total, write
        self.number = 0

    @contextmanager
    def step(self, what: str, *, usually: str) -> Iterator[dict]:
        """`note["result"]` set inside the block is shown after "done"."""
        self.number += 1
        self.write(f"[{self.number}/{self.total}] {what} (usually {usually})… ")
        note: dict = {}
        started = time.monotonic()
        try:
            yield note
        except BaseException:
            self.write("failed.\n")
            raise
        seconds = time.monotonic() - started
        result = f": {note['result']}" if note.get("result") else ""
        self.write(f"done in {seconds:.1f} s{result}\n")
