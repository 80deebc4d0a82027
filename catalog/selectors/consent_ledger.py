"""Reads of the consent ledger."""

from __future__ import annotations

from ..chain import CONSENT_CHAIN, GENESIS_HASH, ChainBreak
from ..models import (
    ConsentChainHead,
    ConsentEvent,
    ConsentState,
    Party,
    Recording,
)
from .remixability import consent_from_states


def consent_history(*, party: Party | None = None, recording: Recording | None = None):
    queryset = ConsentEvent.objects.select_related("party", "recording", "actor")
    if party is not None:
        queryset = queryset.filter(party=party)
    if recording is not None:
        queryset = queryset.filter(recording=recording)
    return queryset.order_by("-seq")


def consent_state_for_party(*, party: Party) -> dict:
    """Catalog-wide consent and each recording's effective consent."""
    recordings = list(
        Recording.objects.filter(artists__party=party, artists__role="main")
        .distinct()
        .order_by("title", "id")
    )
    states = {s.recording_id: s for s in ConsentState.objects.filter(party=party)}
    wide = states.get(None)
    per_recording = []
    for recording in recordings:
        own = states.get(recording.id)
        effective = consent_from_states([s for s in (own, wide) if s is not None])
        per_recording.append((recording, effective, own))
    return {
        "catalog_wide": consent_from_states([wide] if wide else []),
        "catalog_wide_state": wide,
        "recordings": per_recording,
    }


def consent_chain_verify() -> ChainBreak | None:
    """Recompute every hash; None when the ledger is intact."""
    rows = ConsentEvent.objects.order_by("seq").values("id", "hash", *CONSENT_CHAIN.fields)
    head = ConsentChainHead.objects.filter(pk=1).first()
    return CONSENT_CHAIN.verify_stored(
        rows.iterator(chunk_size=2000),
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head else GENESIS_HASH,
    )
