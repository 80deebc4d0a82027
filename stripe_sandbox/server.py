"""The HTTP layer: a threaded stdlib server, request decoding, auth, idempotency, dispatch.

The stripe SDK (requests under the hood) keeps connections alive, so the server speaks
HTTP/1.1 and always sends ``Content-Length``. Errors carry ``Stripe-Should-Retry: false`` so
the SDK's automatic network retries never turn a deliberate error into a slow test.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import idempotency
from .config import API_VERSION, EndpointKind, SandboxConfig, WebhookEndpoint
from .core import Ctx, Sandbox
from .errors import StripeError, authentication, unknown_param
from .expand import apply_expansions
from .formparse import get_list, parse_form, parse_json_body
from .ids import random_token
from .openapi import request_param_names
from .router import ROUTER, Response, Route, load_routes

log = logging.getLogger("stripe_sandbox")

# Params that newer API versions accept but the 2020-08-27 spec does not list; accepted (and
# ignored) so code written against current docs is not rejected as "unknown parameter".
NEWER_PARAMS: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/v1/checkout/sessions"): frozenset(
        {
            "currency",
            "custom_fields",
            "custom_text",
            "invoice_creation",
            "payment_method_collection",
            "saved_payment_method_options",
        }
    ),
    ("POST", "/v1/subscriptions/{subscription_exposed_id}"): frozenset(
        {"cancellation_details", "description"}
    ),
    ("DELETE", "/v1/subscriptions/{subscription_exposed_id}"): frozenset({"cancellation_details"}),
    ("POST", "/v1/accounts"): frozenset({"controller"}),
    ("POST", "/v1/refunds"): frozenset({"instructions_email"}),
}


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, indent=2).encode("utf-8")
    out = {"Content-Type": "application/json"}
    out.update(headers or {})
    return Response(status, body, out)


def _error_response(err: StripeError, headers: dict[str, str] | None = None) -> Response:
    out = {"Stripe-Should-Retry": "false"}
    out.update(headers or {})
    return _json_response(err.status, err.body(), out)


def _api_key(header: str | None) -> str:
    if not header:
        raise authentication(
            "You did not provide an API key. You need to provide your API key in the Authorization "
            "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can help at "
            "https://support.stripe.com/."
        )
    scheme, _, value = header.strip().partition(" ")
    key = value.strip()
    if scheme.lower() == "basic":
        # curl -u sk_test_...: sends "key:" base64-encoded.
        try:
            key = base64.b64decode(key).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key.startswith("sk_test_"):
        shown = (key[:8] + "*" * 12 + key[-4:]) if len(key) > 12 else "*" * len(key)
        raise authentication(f"Invalid API Key provided: {shown}")
    return key


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stripe-sandbox/1.0"
    sys_version = ""
    timeout = 120  # drop idle keep-alive connections eventually
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait for a
    # delayed ACK (~40 ms) on every response.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- dispatch -------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        sandbox = self.server.sandbox
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            parts = urlsplit(self.path)
            found = ROUTER.match(method, parts.path)
            if found is None:
                response = self._not_found(method, parts.path)
            else:
                route, path_params = found
                if route.kind == "api":
                    response = self._api(sandbox, route, path_params, method, parts.query, body)
                elif route.kind == "page":
                    response = self._page(sandbox, route, path_params, body)
                else:
                    response = self._hook(sandbox, route, path_params, parts.query, body)
        except Exception:
            log.exception("unhandled error for %s %s", method, self.path)
            err = StripeError(
                500, "api_error", "An unexpected error occurred in the Stripe sandbox."
            )
            response = _error_response(err)
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # client went away
            self.close_connection = True

    def _not_found(self, method: str, path: str) -> Response:
        if path.startswith("/v1/") or path.startswith("/_sandbox/"):
            return _error_response(
                StripeError(
                    404,
                    "invalid_request_error",
                    f"Unrecognized request URL ({method}: {path}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                )
            )
        return Response.html(404, "<!DOCTYPE html><title>Not found</title><h1>Not found</h1>")

    def _params(self, method: str, query: str, body: bytes) -> dict[str, Any]:
        if method in ("GET", "DELETE"):
            return parse_form(query)
        text = body.decode("utf-8", "replace")
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            return parse_json_body(text)
        return parse_form(text)

    def _api(
        self,
        sandbox: Sandbox,
        route: Route,
        path_params: dict[str, str],
        method: str,
        query: str,
        body: bytes,
    ) -> Response:
        request_id = "req_" + random_token(14)
        base_headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION}
        idem_key = self.headers.get("Idempotency-Key") if method == "POST" else None
        if idem_key:
            base_headers["Idempotency-Key"] = idem_key
        try:
            api_key = _api_key(self.headers.get("Authorization"))
            params = self._params(method, query, body)
        except StripeError as err:
            return _error_response(err, base_headers)
        ctx = Ctx(
            sandbox,
            api_key=api_key,
            account=self.headers.get("Stripe-Account") or None,
            request_id=request_id,
            idempotency_key=idem_key,
        )
        # One lock around lookup, execution and recording makes a key's first use atomic:
        # concurrent retries with the same key replay instead of executing twice.
        with sandbox.store.lock:
            if idem_key is None:
                response = self._execute(ctx, route, params, path_params, base_headers)
            else:
                response = self._execute_idempotent(
                    ctx, route, params, path_params, base_headers, idem_key
                )
            sandbox.commit(ctx)
        return response

    def _execute_idempotent(
        self,
        ctx: Ctx,
        route: Route,
        params: dict[str, Any],
        path_params: dict[str, str],
        base_headers: dict[str, str],
        idem_key: str,
    ) -> Response:
        store = ctx.store
        assert ctx.api_key is not None
        scope = idempotency.scope(ctx.api_key, ctx.account, idem_key)
        fingerprint = idempotency.fingerprint(
            route.method, route.template, {**params, "__path": path_params}
        )
        try:
            record = idempotency.lookup(store, scope, fingerprint, idem_key)
        except StripeError as err:
            return _error_response(err, base_headers)
        if record is not None:
            headers = {
                **record["headers"],
                **base_headers,
                "Idempotent-Replayed": "true",
                "Original-Request": record["headers"].get("Request-Id", ""),
            }
            return Response(record["status"], record["body"].encode("utf-8"), headers)
        response = self._execute(ctx, route, params, path_params, base_headers)
        if idempotency.should_store(response.status):
            idempotency.remember(
                store,
                scope,
                fingerprint,
                response.status,
                response.body.decode("utf-8"),
                response.headers,
                store.now(),
            )
        return response

    def _execute(
        self,
        ctx: Ctx,
        route: Route,
        params: dict[str, Any],
        path_params: dict[str, str],
        base_headers: dict[str, str],
    ) -> Response:
        try:
            assert ctx.api_key is not None
            self._check_account(ctx, ctx.api_key)
            self._check_params(ctx.sandbox, route, params)
            result = route.handler(ctx, params, **path_params)
            result = apply_expansions(ctx, result, get_list(params, "expand"))
            return _json_response(200, result, base_headers)
        except StripeError as err:
            return _error_response(err, base_headers)

    @staticmethod
    def _check_account(ctx: Ctx, api_key: str) -> None:
        if ctx.account is None:
            return
        acct = ctx.store.get(ctx.account)
        if acct is None or acct.get("object") != "account":
            raise StripeError(
                403,
                "invalid_request_error",
                f"The provided key '{api_key[:8]}****{api_key[-4:]}' does not have access to "
                f"account '{ctx.account}' (or that account does not exist). Application access "
                "may have been revoked.",
                code="account_invalid",
            )

    @staticmethod
    def _check_params(sandbox: Sandbox, route: Route, params: dict[str, Any]) -> None:
        if not sandbox.config.strict_params:
            return
        allowed = request_param_names(route.method, route.template)
        if allowed is None:
            return
        extra = NEWER_PARAMS.get((route.method, route.template), frozenset())
        for name in params:
            if name not in allowed and name not in extra:
                raise unknown_param(name)

    def _page(
        self, sandbox: Sandbox, route: Route, path_params: dict[str, str], body: bytes
    ) -> Response:
        with sandbox.store.lock:
            ctx = Ctx(sandbox)
            response: Response = route.handler(ctx, body, **path_params)
            sandbox.commit(ctx)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _hook(
        self, sandbox: Sandbox, route: Route, path_params: dict[str, str], query: str, body: bytes
    ) -> Response:
        try:
            payload = json.loads(body.decode("utf-8") or "{}") if body.strip() else {}
            if not isinstance(payload, dict):
                raise StripeError(400, "invalid_request_error", "Hook bodies must be JSON objects.")
        except ValueError:
            return _error_response(
                StripeError(400, "invalid_request_error", "Hook bodies must be JSON.")
            )
        query_params = dict(parse_qsl(query))
        ctx = Ctx(sandbox)
        try:
            if getattr(route.handler, "unlocked", False):
                result = route.handler(ctx, payload, query_params, **path_params)
            else:
                with sandbox.store.lock:
                    result = route.handler(ctx, payload, query_params, **path_params)
                    sandbox.commit(ctx)
        except StripeError as err:
            return _error_response(err)
        return _json_response(200, result)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64  # the default backlog of 5 drops bursts of parallel test clients

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up on a kept-alive connection (a test's HTTP pool
        # closing) is not the sandbox's error: no traceback for it. Anything
        # else is printed as before.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """A running sandbox: ``.url``, ``.port``, ``.stop()`` plus conveniences for tests."""

    def __init__(self, config: SandboxConfig) -> None:
        load_routes()
        self.config = config
        self.sandbox = Sandbox(config)
        self.httpd = _HTTPServer((config.host, config.port), self.sandbox)
        self.port: int = self.httpd.server_address[1]
        # Bound to every interface: hand out a loopback URL unless public_url says otherwise.
        wildcard = ("", "0.0.0.0", "::")  # noqa: S104 - compared against, not bound
        host = config.host if config.host not in wildcard else "127.0.0.1"
        self.url: str = (config.public_url or f"http://{host}:{self.port}").rstrip("/")
        self.sandbox.base_url = self.url
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start_background(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"stripe-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.httpd.server_close()
            self.sandbox.close()

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()
        self.sandbox.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- conveniences (same as the /_sandbox hooks, callable in-process) ----------------------

    @property
    def webhook_secret(self) -> str | None:
        endpoints = self.sandbox.deliverer.endpoints
        return endpoints[0].secret if endpoints else None

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.sandbox.deliverer.wait_idle(timeout)

    def advance_clock(self, seconds: int = 0, *, days: float = 0) -> list[str]:
        from .timeline import advance

        with self.sandbox.store.lock:
            ctx = Ctx(self.sandbox)
            events = advance(ctx, self.sandbox.store.now() + int(seconds + days * 86400))
            self.sandbox.commit(ctx)
        return events

    def reset(self) -> None:
        with self.sandbox.store.lock:
            self.sandbox.reset()

    def set_webhook_endpoints(self, endpoints: list[WebhookEndpoint]) -> None:
        self.sandbox.deliverer.set_endpoints(endpoints)


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    state_file: str | None = None,
    *,
    connect_webhook_url: str | None = None,
    connect_webhook_secret: str | None = None,
    **options: Any,
) -> SandboxServer:
    """Start a sandbox serving in a background thread (``port=0`` picks a free port).

    ``options`` are :class:`~stripe_sandbox.config.SandboxConfig` fields, e.g.
    ``retry_base_delay=0.05`` or ``public_url="http://sandbox:12111"``.
    """
    config = SandboxConfig(host=host, port=port, state_file=state_file, **options)
    config.endpoints = build_endpoints(
        webhook_url, webhook_secret, connect_webhook_url, connect_webhook_secret
    )
    return SandboxServer(config).start_background()


def build_endpoints(
    webhook_url: str | None,
    webhook_secret: str | None,
    connect_webhook_url: str | None = None,
    connect_webhook_secret: str | None = None,
) -> list[WebhookEndpoint]:
    """One endpoint for everything, or -- when a Connect URL is given -- split like Stripe's
    "account" and "connected accounts" endpoints."""
    endpoints = []
    if webhook_url:
        kind: EndpointKind = "platform" if connect_webhook_url else "all"
        endpoints.append(
            WebhookEndpoint(webhook_url, webhook_secret or "whsec_" + random_token(32), kind)
        )
    if connect_webhook_url:
        endpoints.append(
            WebhookEndpoint(
                connect_webhook_url,
                connect_webhook_secret or webhook_secret or "whsec_" + random_token(32),
                "connect",
            )
        )
    return endpoints
