"""Advancing the simulated clock and running whatever became due, in time order.

Jumping three months runs three renewals (and any dunning retries between them) with the
clock set to each due instant in turn, so every timestamp in the resulting objects and
events is what it would have been had the time really passed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .resources.billing import due_billing_work, run_billing_work
from .resources.checkout import expire_session

if TYPE_CHECKING:
    from .core import Ctx

MAX_STEPS = 100_000


def pending_work(ctx: Ctx) -> list[tuple[int, int, str]]:
    work = due_billing_work(ctx)
    for session in ctx.store.all("checkout_sessions"):
        if session["status"] == "open":
            work.append((session["expires_at"], 2, session["id"]))
    return work


def _run(ctx: Ctx, object_id: str) -> None:
    obj = ctx.store.get(object_id)
    if obj is None:
        return
    if obj["object"] == "checkout.session":
        if obj["status"] == "open" and obj["expires_at"] <= ctx.now():
            expire_session(ctx, obj)
    else:
        run_billing_work(ctx, object_id)


def advance(ctx: Ctx, target: int) -> list[str]:
    """Move the clock to ``target``, running due work on the way; returns new event ids."""
    store = ctx.store
    first_new = len(store.collections["events"])
    for _ in range(MAX_STEPS):
        due = [w for w in pending_work(ctx) if w[0] <= target]
        if not due:
            break
        when, _priority, object_id = min(due)
        store.clock.advance_to(when)
        _run(ctx, object_id)
    else:  # pragma: no cover - defensive
        raise RuntimeError("clock advance did not converge")
    store.clock.advance_to(target)
    store.touch()
    return [e["id"] for e in store.all("events")[first_new:]]
