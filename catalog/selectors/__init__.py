"""Reads of the rights catalog, including the one remixability rule.

Everything that asks "may this recording be remixed now, and under which
terms?" calls `recording_remixability` (one recording) or
`recording_remixability_map` / `recording_list_remixable` (many, in a fixed
number of queries).
"""

from .consent_ledger import (
    consent_chain_verify,
    consent_history,
    consent_state_for_party,
)
from .credits import (
    Credits,
    recording_credits,
    recording_credits_listed,
)
from .listing import (
    FACETS_LIFETIME,
    LISTING_VERSION_KEY,
    Facets,
    StateMismatch,
    cache_versions,
    catalog_listing_cached,
    catalog_listing_version,
    consent_state_mismatches,
    recording_facets,
    recording_ids_naming_party,
    recording_ids_of_work,
    recording_list_newest_remixable,
    recording_list_remixable,
    recording_remixability_listed,
    recording_remixability_state_mismatches,
    recording_remixability_stored,
    recording_search_documents,
    recording_search_may_retry,
    versioned_cached,
)
from .parties import (
    UploadConsentOutlook,
    party_list_claims,
    party_list_owned,
    party_list_pending_claims,
    party_search,
    recording_list_for_party_owner,
    upload_consent_outlook,
    user_can_edit_splits,
    user_owns_party,
)
from .remixability import (
    EffectiveConsent,
    Reason,
    ReasonCode,
    Remixability,
    consent_effective,
    recording_list_remixable_sql,
    recording_queryset_with_credits,
    recording_remixability,
    recording_remixability_map,
)

__all__ = [
    "FACETS_LIFETIME",
    "LISTING_VERSION_KEY",
    "Credits",
    "EffectiveConsent",
    "Facets",
    "Reason",
    "ReasonCode",
    "Remixability",
    "StateMismatch",
    "UploadConsentOutlook",
    "cache_versions",
    "catalog_listing_cached",
    "catalog_listing_version",
    "consent_chain_verify",
    "consent_effective",
    "consent_history",
    "consent_state_for_party",
    "consent_state_mismatches",
    "party_list_claims",
    "party_list_owned",
    "party_list_pending_claims",
    "party_search",
    "recording_credits",
    "recording_credits_listed",
    "recording_facets",
    "recording_ids_naming_party",
    "recording_ids_of_work",
    "recording_list_for_party_owner",
    "recording_list_newest_remixable",
    "recording_list_remixable",
    "recording_list_remixable_sql",
    "recording_queryset_with_credits",
    "recording_remixability",
    "recording_remixability_listed",
    "recording_remixability_map",
    "recording_remixability_state_mismatches",
    "recording_remixability_stored",
    "recording_search_documents",
    "recording_search_may_retry",
    "upload_consent_outlook",
    "user_can_edit_splits",
    "user_owns_party",
    "versioned_cached",
]
