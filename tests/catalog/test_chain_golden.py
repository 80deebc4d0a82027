"""Golden hashes of the two hash chains (consent ledger, staff audit log).

The digests below were computed by the code as it stood before the two chain
modules were unified; any change to canonical JSON, the hashed fields or the
walk changes them, and every stored chain would then fail verification.
Pure: no database.
"""

from __future__ import annotations

from catalog.audit_log import audit_entry_hash, audit_find_first_break
from catalog.chain import GENESIS_HASH, ChainBreak, event_hash, find_first_break

CONSENT_EVENTS = [
    {
        "seq": 1,
        "kind": "grant",
        "party_id": 7,
        "recording_id": None,
        "actor_id": 3,
        "created_at": "2026-01-02T03:04:05.000006Z",
        "reason": "",
        "terms": {"stem_volume": True, "tempo": True, "unpublish_on_revoke": True},
    },
    {
        "seq": 2,
        "kind": "revoke",
        "party_id": 7,
        "recording_id": 11,
        "actor_id": 3,
        "created_at": "2026-01-03T00:00:00.000000Z",
        "reason": "Änderung — no more remixes",
        "terms": None,
    },
    {
        "seq": 3,
        "kind": "takedown",
        "party_id": None,
        "recording_id": 11,
        "actor_id": 1,
        "created_at": "2026-01-04T12:30:00.123456Z",
        "reason": "claim",
        "terms": {"b": [1, 2], "a": {"z": None, "y": "ü"}},
    },
]

AUDIT_ENTRIES = [
    {
        "seq": 1,
        "action": "takedown.place",
        "actor_id": 1,
        "subject_type": "recording",
        "subject_id": "11",
        "reason": "Rights claim",
        "data": {"takedown_id": 5},
        "created_at": "2026-02-01T09:00:00.000000Z",
    },
    {
        "seq": 2,
        "action": "order.refund",
        "actor_id": 2,
        "subject_type": "order",
        "subject_id": "order_42",
        "reason": "",
        "data": {"amount": 499, "currency": "eur", "lines": [1, 2, 3]},
        "created_at": "2026-02-01T09:05:00.654321Z",
    },
    {
        "seq": 3,
        "action": "export",
        "actor_id": 2,
        "subject_type": "trail",
        "subject_id": "",
        "reason": "Auditor asked — “quoted”",
        "data": {},
        "created_at": "2026-02-02T00:00:00.000000Z",
    },
]

CONSENT_GOLDEN = [
    "c8810cd9f3eeec0264fbe7fb41c0c6a4c3788d3bd4f1090f2ed1048e09009fd6",
    "ff6ad7909ebf5d6c6df474a34c885052c92f803e2ae359c3b7b29303b6514b19",
    "0c932d2147ec3f076d6c3dc4d4ad89ac4aefd83aac87b6697934257aa5de1833",
]
AUDIT_GOLDEN = [
    "13495a23e7424695126610d98e7cac3525f983dbd6676d3775b330e6752c1f49",
    "5a8c438aeb51de63fa5997a81076f98044ccd259f782c5f3356ef6b9f0a557bf",
    "57a100fb994358a91668efa1399a5999ff4885f5888e8a071c957da3a0c6afb6",
]


def _chained(contents, hash_fn):
    prev, chain = GENESIS_HASH, []
    for index, content in enumerate(contents, start=1):
        event = {**content, "prev_hash": prev, "id": 100 + index}
        event["hash"] = prev = hash_fn(event)
        chain.append(event)
    return chain


def test_consent_event_hashes_are_unchanged():
    chain = _chained(CONSENT_EVENTS, event_hash)
    assert [event["hash"] for event in chain] == CONSENT_GOLDEN


def test_staff_audit_entry_hashes_are_unchanged():
    chain = _chained(AUDIT_ENTRIES, audit_entry_hash)
    assert [entry["hash"] for entry in chain] == AUDIT_GOLDEN


def test_intact_chains_verify():
    consent = _chained(CONSENT_EVENTS, event_hash)
    audit = _chained(AUDIT_ENTRIES, audit_entry_hash)
    assert find_first_break(consent, head_seq=3, head_hash=CONSENT_GOLDEN[-1]) is None
    assert audit_find_first_break(audit, head_seq=3, head_hash=AUDIT_GOLDEN[-1]) is None


def test_consent_chain_breaks_are_named():
    chain = _chained(CONSENT_EVENTS, event_hash)
    edited = [chain[0], {**chain[1], "reason": "forged"}, chain[2]]
    assert find_first_break(edited) == ChainBreak(2, 102, "its content does not match its hash")
    assert find_first_break([chain[0], chain[2]]) == ChainBreak(
        3, 103, "expected event #2, found #3"
    )
    assert find_first_break(chain[:2], head_seq=3) == ChainBreak(
        3, None, "the ledger head says 3 events but 2 remain"
    )
    assert find_first_break(chain, head_hash="f" * 64) == ChainBreak(
        3, 103, "the ledger head's hash does not match"
    )
    relinked = [chain[0], {**chain[1], "prev_hash": GENESIS_HASH}]
    assert find_first_break(relinked) == ChainBreak(
        2, 102, "its prev_hash does not match the event before it"
    )


def test_staff_audit_chain_breaks_are_named():
    chain = _chained(AUDIT_ENTRIES, audit_entry_hash)
    edited = [chain[0], {**chain[1], "data": {"amount": 1}}, chain[2]]
    assert audit_find_first_break(edited, head_seq=None, head_hash=None) == ChainBreak(
        2, 102, "its content does not match its hash"
    )
    assert audit_find_first_break(
        [chain[0], chain[2]], head_seq=None, head_hash=None
    ) == ChainBreak(3, 103, "expected entry #2, found #3")
    assert audit_find_first_break(chain[:2], head_seq=3, head_hash=None) == ChainBreak(
        3, None, "the log head says 3 entries but 2 remain"
    )
    assert audit_find_first_break(chain, head_seq=3, head_hash="f" * 64) == ChainBreak(
        3, 103, "the log head's hash does not match"
    )
    assert audit_find_first_break([], head_seq=0, head_hash=None) is None
