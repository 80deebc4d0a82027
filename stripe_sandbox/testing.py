"""Helpers for test suites that drive the sandbox (stdlib only).

* :class:`WebhookReceiver` -- a tiny HTTP server in a thread that records webhook requests
  and can be told to fail (e.g. answer 500 to the next two deliveries).
* :func:`hook` -- call a ``/_sandbox/...`` test hook.
* :func:`submit_checkout` / :func:`submit_onboarding` -- post the hosted forms like a browser
  would, without following the redirect (success URLs usually point at the app under test).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECT_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


def http(
    method: str, url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> HttpResult:
    """A plain HTTP request that never follows redirects and never raises on 4xx/5xx."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    # The scheme was checked just above.
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with _NO_REDIRECT_OPENER.open(request, timeout=10) as resp:
            return HttpResult(
                resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
            )
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def hook(
    base_url: str, path: str, payload: dict[str, Any] | None = None, method: str | None = None
) -> Any:
    """Call a test hook, e.g. ``hook(url, "clock/advance", {"days": 31})``; raises on errors."""
    verb = method or ("POST" if payload is not None else "GET")
    data = json.dumps(payload).encode() if payload is not None else None
    result = http(
        verb,
        f"{base_url}/_sandbox/{path.lstrip('/')}",
        data=data,
        headers={"Content-Type": "application/json"},
    )
    if result.status != 200:
        raise RuntimeError(f"hook {path} failed: {result.status} {result.text}")
    return result.json()


def submit_checkout(
    session_url: str, card_number: str = "4242424242424242", action: str = "pay", **fields: str
) -> HttpResult:
    form = {"action": action, "card_number": card_number, **fields}
    body = urllib.parse.urlencode(form).encode()
    return http(
        "POST",
        session_url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def submit_onboarding(link_url: str, action: str = "complete") -> HttpResult:
    body = urllib.parse.urlencode({"action": action}).encode()
    return http(
        "POST", link_url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


@dataclass
class ReceivedWebhook:
    body: bytes
    headers: dict[str, str]
    status: int  # what the receiver answered
    received_at: float

    @property
    def payload(self) -> str:
        return self.body.decode("utf-8")

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event

    @property
    def signature(self) -> str:
        return self.headers.get("stripe-signature", "")


class WebhookReceiver:
    """Records every POST; answers 200 unless told otherwise with :meth:`fail_next`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.received: list[ReceivedWebhook] = []
        self._failures: list[int] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver._next_status()
                with receiver._cond:
                    receiver.received.append(
                        ReceivedWebhook(
                            body,
                            {k.lower(): v for k, v in self.headers.items()},
                            status,
                            time.monotonic(),
                        )
                    )
                    receiver._cond.notify_all()
                reply = b'{"received": true}' if status < 300 else b'{"error": "simulated failure"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}/webhook"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def _next_status(self) -> int:
        with self._cond:
            return self._failures.pop(0) if self._failures else 200

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._cond:
            self._failures.extend([status] * count)

    def clear(self) -> None:
        with self._cond:
            self.received.clear()

    def events(self) -> list[dict[str, Any]]:
        with self._cond:
            return [r.event for r in self.received]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]

    def wait_for(
        self, predicate: Callable[[list[ReceivedWebhook]], bool], timeout: float = 5.0
    ) -> list[ReceivedWebhook]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"webhooks never matched; got {[r.event['type'] for r in self.received]}"
                    )
                self._cond.wait(remaining)
            return list(self.received)

    def wait_for_count(self, count: int, timeout: float = 5.0) -> list[ReceivedWebhook]:
        return self.wait_for(lambda received: len(received) >= count, timeout)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
