"""In-memory state, guarded by one re-entrant lock, optionally persisted to a JSON file.

Objects are stored in their public Stripe shape (references as ids); sandbox-only
facts (e.g. "this card fails off-session") live in ``internal`` keyed by object
id so they can never leak into API responses. A single lock keeps the model
simple: every API request, hosted-page action and test hook runs under it, which
also makes idempotency checks and balance arithmetic atomic.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from .clock import SimClock
from .ids import COLLECTIONS, collection_for

log = logging.getLogger("stripe_sandbox")

STATE_VERSION = 1
PLATFORM = "platform"


class Store:
    def __init__(self, state_file: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self._clear()
        if self.state_file and self.state_file.exists():
            self.load()

    def _clear(self) -> None:
        self.collections: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in COLLECTIONS}
        self.internal: dict[str, dict[str, Any]] = {}
        # owner ("platform" or an acct_ id) -> currency -> available amount (minor units)
        self.balances: dict[str, dict[str, int]] = {PLATFORM: {}}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.link_tokens: dict[str, dict[str, Any]] = {}
        self.clock = SimClock()
        self.dirty = False

    # --- lifecycle ------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self._clear()
            self.dirty = True
            self.save_if_dirty()

    def now(self) -> int:
        return self.clock.now()

    # --- objects --------------------------------------------------------------------------

    def insert(self, obj: dict[str, Any]) -> dict[str, Any]:
        collection = collection_for(obj["id"])
        if collection is None:
            raise ValueError(f"no collection for id {obj['id']}")
        self.collections[collection][obj["id"]] = obj
        self.dirty = True
        return obj

    def get(self, object_id: str | None) -> dict[str, Any] | None:
        if not object_id:
            return None
        collection = collection_for(object_id)
        if collection is None:
            return None
        return self.collections[collection].get(object_id)

    def all(self, collection: str) -> list[dict[str, Any]]:
        """Objects of a collection, oldest first (dicts keep insertion order)."""
        return list(self.collections[collection].values())

    def meta(self, object_id: str) -> dict[str, Any]:
        """Sandbox-only facts about an object (never rendered)."""
        self.dirty = True
        return self.internal.setdefault(object_id, {})

    def peek_meta(self, object_id: str) -> dict[str, Any]:
        return self.internal.get(object_id, {})

    def touch(self) -> None:
        self.dirty = True

    # --- balances -------------------------------------------------------------------------

    def balance(self, owner: str) -> dict[str, int]:
        return self.balances.setdefault(owner, {})

    def available(self, owner: str, currency: str) -> int:
        return self.balances.get(owner, {}).get(currency, 0)

    def adjust_balance(self, owner: str, currency: str, delta: int) -> None:
        bal = self.balance(owner)
        bal[currency] = bal.get(currency, 0) + delta
        self.dirty = True

    # --- persistence ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "clock_offset": self.clock.offset,
            "collections": self.collections,
            "internal": self.internal,
            "balances": self.balances,
            "idempotency": self.idempotency,
            "link_tokens": self.link_tokens,
        }

    def save_if_dirty(self) -> None:
        with self.lock:
            if not self.dirty or self.state_file is None:
                self.dirty = False
                return
            data = json.dumps(self.snapshot(), separators=(",", ":"))
            self.dirty = False
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        # Write-then-rename so a crash mid-write never leaves a truncated state file.
        fd, tmp = tempfile.mkstemp(prefix=".stripe-sandbox-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
            os.replace(tmp, self.state_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self) -> None:
        assert self.state_file is not None
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable state file %s: %s", self.state_file, exc)
            return
        if data.get("version") != STATE_VERSION:
            log.warning("ignoring state file %s with unknown version", self.state_file)
            return
        with self.lock:
            self._clear()
            for name, objects in data.get("collections", {}).items():
                if name in self.collections:
                    self.collections[name] = objects
            self.internal = data.get("internal", {})
            self.balances = data.get("balances", {PLATFORM: {}})
            self.idempotency = data.get("idempotency", {})
            self.link_tokens = data.get("link_tokens", {})
            self.clock = SimClock(float(data.get("clock_offset", 0.0)))
