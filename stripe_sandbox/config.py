"""Sandbox configuration (shared by ``start()`` and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EndpointKind = Literal["all", "platform", "connect"]

# The API version the sandbox speaks; events carry it and the schemas come from its spec.
API_VERSION = "2020-08-27"


@dataclass
class WebhookEndpoint:
    url: str
    secret: str
    # "all": every event; "platform": events on the platform account only;
    # "connect": events that happened on connected accounts (they carry ``account``).
    kind: EndpointKind = "all"

    def __post_init__(self) -> None:
        # Deliveries go through urllib, which would happily open file:// URLs.
        if not self.url.lower().startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must be http(s): {self.url!r}")

    def wants(self, account: str | None) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "connect":
            return account is not None
        return account is None

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url, "secret": self.secret, "kind": self.kind}


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 12111
    public_url: str | None = None
    state_file: str | None = None
    endpoints: list[WebhookEndpoint] = field(default_factory=list)
    # Webhook retry policy: attempt n+1 waits retry_base_delay * 2**(n-1), capped.
    retry_base_delay: float = 1.0
    retry_max_delay: float = 60.0
    max_attempts: int = 5
    delivery_timeout: float = 5.0
    # Reject params that Stripe itself would reject as unknown (typos like "metdata").
    strict_params: bool = True
    # Invoice retry schedule (days after the previous failure); after the last one fails the
    # subscription is canceled.
    dunning_retry_days: tuple[int, ...] = (3, 5)
    checkout_expires_after: int = 24 * 3600
    account_link_ttl: int = 300
    platform_name: str = "Clearmix (Stripe sandbox)"
