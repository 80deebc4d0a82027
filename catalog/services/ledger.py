"""The consent ledger: appends hash-chained events and keeps derived state.

Every consent or takedown change goes through `ledger_append`, inside the
caller's transaction, so the event and the state it implies commit together.
"""

from __future__ import annotations

from django.utils import timezone

from catalog.chain import CONSENT_CHAIN, GENESIS_HASH, canonical_time
from catalog.models import ConsentChainHead, ConsentEvent, Party, Recording


def ledger_lock() -> ConsentChainHead:
    """Take the head row lock that serialises every ledger writer. Writers
    that also lock recordings take this first, so locks are always taken in
    the same order."""
    head, _ = ConsentChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
    )
    return head


def ledger_append(
    *,
    kind: str,
    actor,
    party: Party | None = None,
    recording: Recording | None = None,
    reason: str = "",
    terms: dict | None = None,
) -> ConsentEvent:
    """Append one event. Must run inside a transaction (the head row lock
    serialises writers, so the chain never forks)."""
    head = ledger_lock()
    # Microseconds are kept; the stored value must round-trip to the hashed text.
    created_at = timezone.now()
    content = {
        "seq": head.seq + 1,
        "kind": kind,
        "party_id": party.pk if party else None,
        "recording_id": recording.pk if recording else None,
        "actor_id": actor.pk,
        "created_at": canonical_time(created_at),
        "reason": reason or "",
        "terms": terms,
        "prev_hash": head.hash,
    }
    digest = CONSENT_CHAIN.hash(content)
    event = ConsentEvent.objects.create(
        seq=content["seq"],
        kind=kind,
        party=party,
        recording=recording,
        actor=actor,
        created_at=created_at,
        reason=content["reason"],
        terms=terms,
        prev_hash=head.hash,
        hash=digest,
    )
    head.seq, head.hash = event.seq, digest
    head.save(update_fields=["seq", "hash"])
    return event
