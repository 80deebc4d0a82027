"""Fixtures for the Stripe sandbox's own tests.

No Django: these tests start the sandbox in-process on a free port, point the real ``stripe``
SDK at it (globals patched per test and restored) and capture webhooks with a local receiver.
Retry delays are tiny so the whole suite stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

import stripe_sandbox
from stripe_sandbox.server import SandboxServer
from stripe_sandbox.testing import WebhookReceiver

API_KEY = "sk_test_sandbox_suite"
WEBHOOK_SECRET = "whsec_sandbox_suite_secret"
FAST_RETRIES = {"retry_base_delay": 0.02, "retry_max_delay": 0.1, "max_attempts": 4}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    rec = WebhookReceiver()
    yield rec
    rec.stop()


@pytest.fixture
def sandbox(receiver: WebhookReceiver) -> Iterator[SandboxServer]:
    server = stripe_sandbox.start(
        port=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET, **FAST_RETRIES
    )
    yield server
    server.stop()


def point_sdk(mp: pytest.MonkeyPatch, url: str) -> None:
    mp.setattr(stripe, "api_key", API_KEY)
    mp.setattr(stripe, "api_base", url)
    mp.setattr(stripe, "connect_api_base", url)
    # Deliberate errors must surface at once, not after the SDK's network retries.
    mp.setattr(stripe, "max_network_retries", 0)


@pytest.fixture
def sdk(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    point_sdk(monkeypatch, sandbox.url)
    return stripe
