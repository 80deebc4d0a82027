"""The sandbox core (state + webhook deliverer + config) and the per-request context."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import SandboxConfig
from .state import Store
from .webhooks import Deliverer


class Sandbox:
    """Everything except HTTP: usable directly from Python for unit-level tests."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = Store(config.state_file)
        self.deliverer = Deliverer(self.store, config)
        self.base_url = (config.public_url or "").rstrip("/")

    def commit(self, ctx: Ctx) -> None:
        """Hand the events a request produced to the deliverer and persist state.

        Called after the handler has finished mutating state, so a webhook never describes a
        half-applied change.
        """
        events = list(ctx.emitted)
        ctx.emitted.clear()
        for event_id, event_type, account in events:
            self.deliverer.enqueue(event_id, event_type, account)
        self.store.save_if_dirty()

    def reset(self) -> None:
        self.deliverer.reset()
        self.store.reset()

    def close(self) -> None:
        self.deliverer.stop()
        self.store.save_if_dirty()


@dataclass
class Ctx:
    sandbox: Sandbox
    api_key: str | None = None
    account: str | None = None  # the Stripe-Account header, if any
    request_id: str | None = None
    idempotency_key: str | None = None
    emitted: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.sandbox.store

    @property
    def config(self) -> SandboxConfig:
        return self.sandbox.config

    @property
    def base_url(self) -> str:
        return self.sandbox.base_url

    def now(self) -> int:
        return self.sandbox.store.now()
