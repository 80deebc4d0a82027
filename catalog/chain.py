"""The consent ledger's hash chain (no Django imports).

Each event's hash is sha256 over a canonical JSON of its content, including
the previous event's hash, so editing, deleting or reordering any event breaks
every link after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GENESIS_HASH = "0" * 64

# The fields of an event that its hash covers, in a fixed order.
HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "kind",
    "party_id",
    "recording_id",
    "actor_id",
    "created_at",
    "reason",
    "terms",
    "prev_hash",
)


def canonical_json(content: Mapping) -> bytes:
    return json.dumps(
        {name: content[name] for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def event_hash(content: Mapping) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None
    event_id: int | None
    problem: str


def find_first_break(
    events: Iterable[Mapping], *, head_seq: int | None = None, head_hash: str | None = None
) -> ChainBreak | None:
    """Walk events in seq order; return the first broken link, or None.

    `events` are mappings with HASHED_FIELDS plus "id" and "hash". The head
    (last seq and hash, kept beside the chain) catches a truncated tail,
    which the links alone cannot.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    last: Mapping | None = None
    for event in events:
        seq, event_id = event["seq"], event.get("id")
        if seq != expected_seq:
            return ChainBreak(seq, event_id, f"expected event #{expected_seq}, found #{seq}")
        if event["prev_hash"] != expected_prev:
            return ChainBreak(seq, event_id, "its prev_hash does not match the event before it")
        if event_hash(event) != event["hash"]:
            return ChainBreak(seq, event_id, "its content does not match its hash")
        expected_prev = event["hash"]
        expected_seq += 1
        last = event
    if head_seq is not None and head_seq != (last["seq"] if last else 0):
        found = last["seq"] if last else 0
        return ChainBreak(
            found + 1, None, f"the ledger head says {head_seq} events but {found} remain"
        )
    if head_hash is not None and last is not None and head_hash != last["hash"]:
        return ChainBreak(last["seq"], last.get("id"), "the ledger head's hash does not match")
    return None
