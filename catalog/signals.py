"""Signals catalog sends so higher apps can react without catalog importing them.

All are sent from `transaction.on_commit`, so receivers only ever see
committed ledger state.

consent_revoked(sender, party_id: int, recording_ids: list[int], unpublish: bool,
                event_id: int)
    An artist revoked consent (catalog-wide or for one recording). New remixes
    of `recording_ids` are refused at once by the remixability rule;
    receivers should cancel queued and running jobs and, when `unpublish` is
    true, unpublish existing remixes.

consent_changed(sender, party_id: int, recording_ids: list[int], event_id: int, kind: str)
    Any consent event (grant, revoke, terms change); for cache invalidation.

takedown_placed(sender, recording_ids: list[int], reason: str, event_id: int)
    Staff took a recording down: cancel jobs and unpublish its remixes.

takedown_lifted(sender, recording_ids: list[int], event_id: int)
"""

from django.dispatch import Signal

consent_revoked = Signal()
consent_changed = Signal()
takedown_placed = Signal()
takedown_lifted = Signal()
