"""Webhook delivery: signing, a background worker, retries with backoff, and test controls.

One worker thread delivers everything, strictly one request at a time, so the
order in which tasks become due is the order receivers see them -- that is what
makes "release held events in reverse order" deterministic. The worker never
holds the store lock while it talks to the network (a receiver may call back
into the sandbox API while handling a webhook).
"""

from __future__ import annotations

import heapq
import hmac
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from .config import SandboxConfig, WebhookEndpoint
from .state import Store

log = logging.getLogger("stripe_sandbox.webhooks")

MAX_RECORDED_ATTEMPTS = 10_000


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value: ``t=<unix>,v1=<hex HMAC-SHA256("t.payload")>``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{ts}.{payload}".encode(), sha256).hexdigest()
    return f"t={ts},v1={mac}"


@dataclass(order=True)
class _Task:
    due: float
    seq: int
    event_id: str = field(compare=False)
    event_type: str = field(compare=False)
    endpoint: WebhookEndpoint = field(compare=False)
    attempt: int = field(compare=False, default=1)
    reason: str = field(compare=False, default="event")  # event | retry | redelivery
    generation: int = field(compare=False, default=0)  # bumped by reset(); stale tasks are dropped


@dataclass
class _DelayRule:
    seconds: float
    remaining: int
    types: frozenset[str] | None

    def matches(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


class Deliverer:
    def __init__(self, store: Store, config: SandboxConfig) -> None:
        self.store = store
        self.config = config
        self.endpoints: list[WebhookEndpoint] = list(config.endpoints)
        self._cond = threading.Condition()
        self._heap: list[_Task] = []
        self._seq = itertools.count()
        self._held: list[_Task] | None = None
        self._delay_rules: list[_DelayRule] = []
        self._attempts: list[dict[str, Any]] = []
        self._delivered: set[tuple[str, str]] = set()
        self._inflight = 0
        self._generation = 0
        self._stopped = False
        # Bypass *_proxy environment variables: deliveries go to local receivers.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._thread = threading.Thread(
            target=self._run, name="stripe-sandbox-webhooks", daemon=True
        )
        self._thread.start()

    # --- configuration ------------------------------------------------------------------------

    def endpoints_for(self, account: str | None) -> list[WebhookEndpoint]:
        return [ep for ep in self.endpoints if ep.wants(account)]

    def set_endpoints(self, endpoints: list[WebhookEndpoint]) -> None:
        with self._cond:
            self.endpoints = list(endpoints)

    # --- queueing -----------------------------------------------------------------------------

    def _push(self, task: _Task) -> None:
        task.generation = self._generation
        heapq.heappush(self._heap, task)
        self._cond.notify_all()

    def enqueue(self, event_id: str, event_type: str, account: str | None) -> None:
        with self._cond:
            delay = 0.0
            for rule in self._delay_rules:
                if rule.remaining > 0 and rule.matches(event_type):
                    rule.remaining -= 1
                    delay = rule.seconds
                    break
            self._delay_rules = [r for r in self._delay_rules if r.remaining > 0]
            for endpoint in self.endpoints_for(account):
                task = _Task(
                    time.monotonic() + delay, next(self._seq), event_id, event_type, endpoint
                )
                if self._held is not None and delay == 0.0:
                    task.generation = self._generation
                    self._held.append(task)
                else:
                    self._push(task)

    def redeliver(
        self,
        event_id: str,
        event_type: str,
        account: str | None,
        times: int = 1,
        delay: float = 0.0,
    ) -> int:
        queued = 0
        with self._cond:
            for _ in range(times):
                for endpoint in self.endpoints_for(account):
                    due = time.monotonic() + delay
                    self._push(
                        _Task(due, next(self._seq), event_id, event_type, endpoint, 1, "redelivery")
                    )
                    queued += 1
        return queued

    def hold(self) -> None:
        with self._cond:
            if self._held is None:
                self._held = []

    def release(self, order: str = "reverse") -> list[str]:
        """Stop holding and deliver what was held, newest first by default (out of order)."""
        with self._cond:
            held = self._held or []
            self._held = None
            if order == "reverse":
                held = list(reversed(held))
            now = time.monotonic()
            released = []
            for task in held:
                # Same due time, increasing seq: the single worker delivers in exactly this order.
                task.due = now
                task.seq = next(self._seq)
                self._push(task)
                released.append(task.event_id)
            return released

    def delay_next(self, seconds: float, count: int = 1, types: list[str] | None = None) -> None:
        with self._cond:
            self._delay_rules.append(
                _DelayRule(seconds, count, frozenset(types) if types else None)
            )

    @property
    def holding(self) -> bool:
        return self._held is not None

    def status(self) -> dict[str, Any]:
        with self._cond:
            return {
                "endpoints": [ep.as_dict() for ep in self.endpoints],
                "holding": self._held is not None,
                "held": [t.event_id for t in self._held or []],
                "queued": len(self._heap),
                "in_flight": self._inflight,
                "delay_rules": [
                    {"seconds": r.seconds, "remaining": r.remaining, "types": sorted(r.types or [])}
                    for r in self._delay_rules
                ],
                "retry_base_delay": self.config.retry_base_delay,
                "max_attempts": self.config.max_attempts,
            }

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (held events do not count)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def attempts(
        self, event_id: str | None = None, event_type: str | None = None
    ) -> list[dict[str, Any]]:
        with self._cond:
            return [
                dict(a)
                for a in self._attempts
                if (event_id is None or a["event"] == event_id)
                and (event_type is None or a["type"] == event_type)
            ]

    def reset(self) -> None:
        with self._cond:
            self._heap.clear()
            self._held = None
            self._delay_rules.clear()
            self._attempts.clear()
            self._delivered.clear()
            self._generation += 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    # --- worker -------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    if self._heap and self._heap[0].due <= now:
                        break
                    self._cond.wait(self._heap[0].due - now if self._heap else None)
                if self._stopped:
                    return
                task = heapq.heappop(self._heap)
                self._inflight += 1
            try:
                self._deliver(task)
            except Exception:  # pragma: no cover - never let the worker die
                log.exception("webhook delivery crashed")
            finally:
                with self._cond:
                    self._inflight -= 1
                    self._cond.notify_all()

    def _deliver(self, task: _Task) -> None:
        with self.store.lock:
            event = self.store.get(task.event_id)
            if event is None:  # state was reset while the task waited
                return
            body = json.dumps(event, indent=2)
        header = sign(body, task.endpoint.secret)
        # Endpoint URLs are checked to be http(s) when configured (WebhookEndpoint).
        request = urllib.request.Request(  # noqa: S310
            task.endpoint.url,
            data=body.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Cache-Control": "no-cache",
            },
        )
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            timeout = self.config.delivery_timeout
            with self._opener.open(request, timeout=timeout) as resp:
                status = resp.status
                resp.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            error = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        ok = status is not None and 200 <= status < 300
        with self._cond:
            if task.generation != self._generation:  # reset while the request was in flight
                return
        retry_in: float | None = None
        if not ok and task.attempt < self.config.max_attempts:
            retry_in = min(
                self.config.retry_base_delay * (2 ** (task.attempt - 1)),
                self.config.retry_max_delay,
            )
        if ok:
            self._mark_delivered(task)
        record = {
            "event": task.event_id,
            "type": task.event_type,
            "endpoint": task.endpoint.url,
            "attempt": task.attempt,
            "reason": task.reason,
            "status": status,
            "succeeded": ok,
            "error": error,
            "signature": header,
            "delivered_at": int(time.time()),
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "next_retry_in": retry_in,
        }
        with self._cond:
            if task.generation != self._generation:
                return
            self._attempts.append(record)
            del self._attempts[:-MAX_RECORDED_ATTEMPTS]
            if retry_in is not None:
                self._push(
                    _Task(
                        time.monotonic() + retry_in,
                        next(self._seq),
                        task.event_id,
                        task.event_type,
                        task.endpoint,
                        task.attempt + 1,
                        "retry",
                    )
                )
        log.info(
            "webhook %s %s -> %s attempt=%s status=%s",
            task.event_type,
            task.event_id,
            task.endpoint.url,
            task.attempt,
            status or error,
        )

    def _mark_delivered(self, task: _Task) -> None:
        key = (task.event_id, task.endpoint.url)
        with self._cond:
            if key in self._delivered:
                return
            self._delivered.add(key)
        with self.store.lock:
            event = self.store.get(task.event_id)
            if event is not None and event.get("pending_webhooks", 0) > 0:
                event["pending_webhooks"] -= 1
                self.store.touch()
