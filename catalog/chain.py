"""Hash chains: the consent ledger and the staff audit log (no Django imports).

Each record's hash is sha256 over a canonical JSON of its content, including
the previous record's hash, so editing, deleting or reordering any record
breaks every link after it. A head (last seq and hash, kept beside the chain
and locked on append) catches a truncated tail, which the links alone cannot.

The two chains differ only in the fields they hash and the words they use in
a break report, so one `HashChain` serves both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_time(value: datetime) -> str:
    """The text a timestamp is hashed as (UTC, microseconds kept)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None
    event_id: int | None
    problem: str


@dataclass(frozen=True)
class HashChain:
    """One chain's hashed fields, in a fixed order, and how its parts are named."""

    fields: tuple[str, ...]
    record: str  # "event", "entry"
    records: str  # "events", "entries"
    head: str  # "ledger", "log"

    def canonical_json(self, content: Mapping[str, Any]) -> bytes:
        return json.dumps(
            {name: content[name] for name in self.fields},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()

    def hash(self, content: Mapping[str, Any]) -> str:
        return hashlib.sha256(self.canonical_json(content)).hexdigest()

    def find_first_break(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        head_seq: int | None = None,
        head_hash: str | None = None,
    ) -> ChainBreak | None:
        """Walk records in seq order; return the first broken link, or None.

        `records` are mappings with `fields` plus "id" and "hash".
        """
        expected_prev, expected_seq = GENESIS_HASH, 1
        last: Mapping[str, Any] | None = None
        for record in records:
            seq, record_id = record["seq"], record.get("id")
            if seq != expected_seq:
                return ChainBreak(
                    seq, record_id, f"expected {self.record} #{expected_seq}, found #{seq}"
                )
            if record["prev_hash"] != expected_prev:
                return ChainBreak(
                    seq, record_id, f"its prev_hash does not match the {self.record} before it"
                )
            if self.hash(record) != record["hash"]:
                return ChainBreak(seq, record_id, "its content does not match its hash")
            expected_prev, expected_seq, last = record["hash"], expected_seq + 1, record
        found = last["seq"] if last else 0
        if head_seq is not None and head_seq != found:
            return ChainBreak(
                found + 1,
                None,
                f"the {self.head} head says {head_seq} {self.records} but {found} remain",
            )
        if head_hash is not None and last is not None and head_hash != last["hash"]:
            return ChainBreak(
                last["seq"], last.get("id"), f"the {self.head} head's hash does not match"
            )
        return None

    def verify_stored(
        self, rows: Iterable[dict[str, Any]], *, head_seq: int, head_hash: str
    ) -> ChainBreak | None:
        """Verify rows as read back from the database (`created_at` a datetime)."""
        return self.find_first_break(
            _with_canonical_time(rows),
            head_seq=head_seq,
            head_hash=head_hash if head_seq else None,
        )


def _with_canonical_time(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        row["created_at"] = canonical_time(row["created_at"])
        yield row


CONSENT_CHAIN = HashChain(
    fields=(
        "seq",
        "kind",
        "party_id",
        "recording_id",
        "actor_id",
        "created_at",
        "reason",
        "terms",
        "prev_hash",
    ),
    record="event",
    records="events",
    head="ledger",
)

STAFF_AUDIT_CHAIN = HashChain(
    fields=(
        "seq",
        "action",
        "actor_id",
        "subject_type",
        "subject_id",
        "reason",
        "data",
        "created_at",
        "prev_hash",
    ),
    record="entry",
    records="entries",
    head="log",
)

# The names callers (and the golden-hash tests) use.
event_hash = CONSENT_CHAIN.hash
find_first_break = CONSENT_CHAIN.find_first_break
