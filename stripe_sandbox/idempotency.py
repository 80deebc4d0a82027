"""Idempotency-Key handling for POST requests.

Keys are scoped per API key and Stripe-Account. The first request's response
(body bytes, status and headers) is stored and replayed verbatim for a retry
with identical parameters; a retry with different parameters -- or against a
different endpoint -- is rejected with ``idempotency_error``. Like Stripe,
requests that fail validation (4xx other than card errors) are not stored, so
the key can be reused once the request is fixed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .errors import idempotency_mismatch
from .state import Store


def scope(api_key: str, account: str | None, key: str) -> str:
    return f"{api_key}|{account or ''}|{key}"


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    raw = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def lookup(store: Store, scope_key: str, print_: str, key: str) -> dict[str, Any] | None:
    record = store.idempotency.get(scope_key)
    if record is None:
        return None
    if record["fingerprint"] != print_:
        raise idempotency_mismatch(key)
    return record


def should_store(status: int) -> bool:
    return 200 <= status < 300 or status == 402


def remember(
    store: Store,
    scope_key: str,
    print_: str,
    status: int,
    body: str,
    headers: dict[str, str],
    created: int,
) -> None:
    store.idempotency[scope_key] = {
        "fingerprint": print_,
        "status": status,
        "body": body,
        "headers": headers,
        "created": created,
    }
    store.touch()
