"""Test hooks under ``/_sandbox/`` (JSON in, JSON out; no API key needed).

They drive what a test cannot make a real Stripe account do on demand: move time, misbehave
on webhook delivery, open disputes, drain balances, make renewals fail. See README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import WebhookEndpoint
from .errors import invalid
from .ids import random_token
from .resources.common import check_currency, rendered, require
from .resources.refunds import close_dispute, open_dispute
from .resources.transfers import balance_object, set_account_balance
from .router import hook
from .state import PLATFORM
from .timeline import advance

if TYPE_CHECKING:
    from .core import Ctx

Body = dict[str, Any]


def unlocked(fn: Any) -> Any:
    """Mark a hook that must not run under the store lock (it waits on the deliverer)."""
    fn.unlocked = True
    return fn


def _number(body: Body, name: str, default: float | None = None) -> float | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(f"{name} must be a number", param=name)
    try:
        return float(value)
    except ValueError as exc:
        raise invalid(f"{name} must be a number", param=name) from exc


def _int(body: Body, name: str, default: int | None = None) -> int | None:
    value = _number(body, name, default)
    return None if value is None else int(value)


@hook("GET", "/_sandbox/health")
def health(ctx: Ctx, body: Body, query: Body) -> Body:
    return {"ok": True, "now": ctx.now(), "url": ctx.base_url}


@hook("GET", "/_sandbox/clock")
def get_clock(ctx: Ctx, body: Body, query: Body) -> Body:
    return {"now": ctx.now(), "offset": ctx.store.clock.offset}


@hook("POST", "/_sandbox/clock/advance")
def advance_clock(ctx: Ctx, body: Body, query: Body) -> Body:
    """``{"seconds"|"minutes"|"hours"|"days": n}`` or ``{"to": unix_ts}``."""
    now = ctx.now()
    if "to" in body:
        target = _int(body, "to") or now
        if target < now:
            raise invalid("The clock can only move forward.", param="to")
    else:
        seconds = (_number(body, "seconds", 0) or 0) + 60 * (_number(body, "minutes", 0) or 0)
        seconds += 3600 * (_number(body, "hours", 0) or 0) + 86400 * (_number(body, "days", 0) or 0)
        if seconds < 0:
            raise invalid("The clock can only move forward.")
        target = now + int(seconds)
    events = advance(ctx, target)
    return {"now": ctx.now(), "events": events}


@hook("POST", "/_sandbox/reset")
def reset(ctx: Ctx, body: Body, query: Body) -> Body:
    ctx.sandbox.reset()
    return {"reset": True}


@hook("GET", "/_sandbox/webhooks")
def webhook_status(ctx: Ctx, body: Body, query: Body) -> Body:
    return ctx.sandbox.deliverer.status()


@hook("POST", "/_sandbox/webhooks/endpoints")
def set_endpoints(ctx: Ctx, body: Body, query: Body) -> Body:
    """Replace the endpoint list: ``{"endpoints": [{"url", "secret"?, "kind"?}]}``."""
    raw = body.get("endpoints")
    if not isinstance(raw, list):
        raise invalid("endpoints must be a list", param="endpoints")
    endpoints = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise invalid("each endpoint needs a url", param=f"endpoints[{i}][url]")
        kind = item.get("kind", "all")
        if kind not in ("all", "platform", "connect"):
            raise invalid("kind must be all, platform or connect", param=f"endpoints[{i}][kind]")
        secret = item.get("secret") or "whsec_" + random_token(32)
        try:
            endpoints.append(WebhookEndpoint(item["url"], secret, kind))
        except ValueError as exc:
            raise invalid(str(exc), param=f"endpoints[{i}][url]") from exc
    ctx.sandbox.deliverer.set_endpoints(endpoints)
    return ctx.sandbox.deliverer.status()


@hook("POST", "/_sandbox/webhooks/hold")
def hold(ctx: Ctx, body: Body, query: Body) -> Body:
    ctx.sandbox.deliverer.hold()
    return ctx.sandbox.deliverer.status()


@hook("POST", "/_sandbox/webhooks/release")
def release(ctx: Ctx, body: Body, query: Body) -> Body:
    order = body.get("order", "reverse")
    if order not in ("reverse", "original"):
        raise invalid("order must be 'reverse' or 'original'", param="order")
    return {"released": ctx.sandbox.deliverer.release(order)}


@hook("POST", "/_sandbox/webhooks/delay")
def delay_next(ctx: Ctx, body: Body, query: Body) -> Body:
    """Deliver the next ``count`` events (optionally only of ``types``) ``seconds`` late."""
    seconds = _number(body, "seconds", 1.0) or 0.0
    count = _int(body, "count", 1) or 1
    types = body.get("types")
    if types is not None and (
        not isinstance(types, list) or not all(isinstance(t, str) for t in types)
    ):
        raise invalid("types must be a list of event types", param="types")
    ctx.sandbox.deliverer.delay_next(seconds, count, types)
    return ctx.sandbox.deliverer.status()


@hook("POST", "/_sandbox/webhooks/flush")
@unlocked
def flush(ctx: Ctx, body: Body, query: Body) -> Body:
    """Wait (up to ``timeout`` seconds) until no delivery is queued or in flight."""
    timeout = _number(body, "timeout", 10.0) or 0.0
    return {"idle": ctx.sandbox.deliverer.wait_idle(timeout)}


@hook("GET", "/_sandbox/deliveries")
def deliveries(ctx: Ctx, body: Body, query: Body) -> Body:
    data = ctx.sandbox.deliverer.attempts(query.get("event"), query.get("type"))
    return {"object": "list", "data": data}


@hook("POST", "/_sandbox/events/{event}/redeliver")
def redeliver(ctx: Ctx, body: Body, query: Body, event: str) -> Body:
    """Deliver an existing event again (``times`` more times, after ``delay`` seconds)."""
    evt = require(ctx, event, "event")
    times = _int(body, "times", 1) or 1
    delay = _number(body, "delay", 0.0) or 0.0
    queued = ctx.sandbox.deliverer.redeliver(
        evt["id"], evt["type"], evt.get("account"), times, delay
    )
    return {"event": evt["id"], "queued": queued}


def _set_balance(ctx: Ctx, owner: str, body: Body) -> Body:
    amount = _int(body, "amount")
    if amount is None:
        raise invalid("amount is required", param="amount")
    currency = check_currency(str(body.get("currency", "usd")))
    return set_account_balance(ctx, owner, currency, amount)


@hook("POST", "/_sandbox/accounts/{account}/balance")
def set_connected_balance(ctx: Ctx, body: Body, query: Body, account: str) -> Body:
    """Set a connected account's available balance (``amount`` 0 drains it)."""
    require(ctx, account, "account")
    return _set_balance(ctx, account, body)


@hook("POST", "/_sandbox/balance")
def set_platform_balance(ctx: Ctx, body: Body, query: Body) -> Body:
    return _set_balance(ctx, PLATFORM, body)


@hook("GET", "/_sandbox/accounts/{account}/balance")
def get_connected_balance(ctx: Ctx, body: Body, query: Body, account: str) -> Body:
    require(ctx, account, "account")
    return balance_object(ctx, account)


@hook("POST", "/_sandbox/charges/{charge}/dispute")
def dispute_charge(ctx: Ctx, body: Body, query: Body, charge: str) -> Body:
    return open_dispute(ctx, charge, str(body.get("reason", "fraudulent")), _int(body, "amount"))


@hook("POST", "/_sandbox/disputes/{dispute}/close")
def close(ctx: Ctx, body: Body, query: Body, dispute: str) -> Body:
    return close_dispute(ctx, dispute, str(body.get("outcome", "")))


@hook("POST", "/_sandbox/customers/{customer}/renewal_failure")
def renewal_failure(ctx: Ctx, body: Body, query: Body, customer: str) -> Body:
    """``{"fail": true}``: the customer's off-session (renewal) charges are declined."""
    cus = require(ctx, customer, "customer")
    fail = body.get("fail", True)
    if not isinstance(fail, bool):
        raise invalid("fail must be a boolean", param="fail")
    ctx.store.meta(cus["id"])["fail_renewals"] = fail
    return {"customer": cus["id"], "fail_renewals": fail}


@hook("GET", "/_sandbox/objects/{object_id}")
def peek(ctx: Ctx, body: Body, query: Body, object_id: str) -> Body:
    """Any stored object by id, plus its sandbox-only internal facts (debugging aid)."""
    obj = ctx.store.get(object_id)
    if obj is None:
        raise invalid(f"No such object: '{object_id}'", code="resource_missing")
    return {"object": rendered(ctx, obj), "internal": ctx.store.peek_meta(object_id)}
