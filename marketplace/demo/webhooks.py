"""Seed-time Stripe events reach the web server, none dropped.

Seeding talks to the sandbox (products, the demo fan's checkout, Connect
onboarding) before the web server listens, and inside one transaction. So
the sandbox holds its deliveries from before the first API call until the
web server answers; then they go out in their original order. Delivering
earlier would meet a closed port (and drop each event after its retries) or
a webhook handler that cannot yet see the seed's uncommitted rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from stripe_sandbox.testing import hook, http


@dataclass(frozen=True)
class DeliveryReport:
    events: int
    failed: list[str] = field(default_factory=list)  # event ids with no 2xx delivery
    settled: bool = True  # nothing left queued or retrying when we looked

    @property
    def ok(self) -> bool:
        return self.settled and not self.failed


def sandbox_webhooks_hold(*, api_base: str) -> None:
    hook(api_base, "webhooks/hold", {})


def wait_for_http(url: str, *, timeout_s: float = 30.0) -> bool:
    """True once the server at `url` answers at all (a 503 from a health
    check still means it listens and serves the webhook endpoint)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            http("GET", url)
            return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def sandbox_webhooks_release(*, api_base: str, timeout_s: float = 60.0) -> DeliveryReport:
    """Deliver what was held, oldest first, wait until every delivery (and
    retry) is done, and say which of those events never got a 2xx."""
    released = set(hook(api_base, "webhooks/release", {"order": "original"})["released"])
    settled = bool(hook(api_base, "webhooks/flush", {"timeout": timeout_s})["idle"])
    attempts = hook(api_base, "deliveries")["data"]
    succeeded = {a["event"] for a in attempts if a["succeeded"]}
    return DeliveryReport(
        events=len(released), failed=sorted(released - succeeded), settled=settled
    )
