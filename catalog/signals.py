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

rights_changed(sender, recording_ids: list[int], reason: str)
    A recording was created (upload, seed) or a split version was registered: the
    recordings may have become remixable (for example under a catalog-wide consent
    granted earlier). Receivers re-check the rule themselves.
recording_audio_stored(sender, recording_id: int)
    A recording's master audio was stored. Catalog never touches audio beyond
    probing it; remixing makes the lossy previews that players use.
"""

from django.dispatch import Signal

consent_revoked = Signal()
consent_changed = Signal()
takedown_placed = Signal()
takedown_lifted = Signal()
rights_changed = Signal()
recording_audio_stored = Signal()
