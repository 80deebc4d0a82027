"""Every write to the rights catalog. Import services from here."""

from .consent import consent_grant, consent_revoke, consent_terms_change
from .ghost_tracks import ghost_track_check, ghost_track_decide, recording_fingerprint_store
from .ledger import ledger_append
from .listing_state import (
    cache_version_bump,
    catalog_listing_changed,
    recording_listing_refresh,
    recording_remixability_refresh,
    recording_remixability_refresh_due,
    recording_search_refresh,
)
from .parties import party_claim, party_claim_verify, party_create, party_songwriter_for_user
from .recordings import (
    UploadConsent,
    UploadResult,
    WriterCredit,
    recording_create,
    recording_upload,
)
from .splits import split_shares_validate, split_version_create
from .takedowns import takedown_lift, takedown_place
from .works import work_create

__all__ = [
    "UploadConsent",
    "UploadResult",
    "WriterCredit",
    "cache_version_bump",
    "catalog_listing_changed",
    "consent_grant",
    "consent_revoke",
    "consent_terms_change",
    "ghost_track_check",
    "ghost_track_decide",
    "ledger_append",
    "party_claim",
    "party_claim_verify",
    "party_create",
    "party_songwriter_for_user",
    "recording_create",
    "recording_fingerprint_store",
    "recording_listing_refresh",
    "recording_remixability_refresh",
    "recording_remixability_refresh_due",
    "recording_search_refresh",
    "recording_upload",
    "split_shares_validate",
    "split_version_create",
    "takedown_lift",
    "takedown_place",
    "work_create",
]
