"""Every write to the rights catalog. Import services from here."""

from .consent import consent_grant, consent_revoke, consent_terms_change
from .ledger import ledger_append
from .parties import party_claim, party_claim_verify, party_create
from .recordings import UploadResult, recording_create, recording_upload
from .splits import split_shares_validate, split_version_create
from .takedowns import takedown_lift, takedown_place
from .works import work_create

__all__ = [
    "UploadResult",
    "consent_grant",
    "consent_revoke",
    "consent_terms_change",
    "ledger_append",
    "party_claim",
    "party_claim_verify",
    "party_create",
    "recording_create",
    "recording_upload",
    "split_shares_validate",
    "split_version_create",
    "takedown_lift",
    "takedown_place",
    "work_create",
]
