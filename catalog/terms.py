"""Consent terms: which transformations an artist allows (no Django imports).

The key set is an interface other apps rely on; it never grows silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# What a remix may do to the recording.
PERMISSION_KEYS: tuple[str, ...] = (
    "stem_volume",
    "tempo",
    "key",
    "effects",
    "vocals_removed",
    "vocals_isolated",
    "publication",
)
# What happens to already published remixes when consent is revoked.
UNPUBLISH_KEY = "unpublish_on_revoke"
TERM_KEYS: tuple[str, ...] = (*PERMISSION_KEYS, UNPUBLISH_KEY)

TERM_LABELS: dict[str, str] = {
    "stem_volume": "Change stem volumes or mute stems",
    "tempo": "Change the tempo",
    "key": "Change the key (pitch shift)",
    "effects": "Add effects",
    "vocals_removed": "Remove the vocals (instrumental)",
    "vocals_isolated": "Isolate the vocals (a cappella)",
    "publication": "Publish remixes publicly",
    UNPUBLISH_KEY: "When I revoke consent, unpublish existing remixes",
}

DEFAULT_CONSENT_TERMS: dict[str, bool] = dict.fromkeys(TERM_KEYS, True)


class TermsError(ValueError):
    """Terms that are not exactly the known boolean keys."""


def normalize_terms(terms: Mapping | None) -> dict[str, bool]:
    """Return a fresh dict with exactly TERM_KEYS; missing keys take the default.

    Unknown keys and non-boolean values are refused rather than guessed at,
    because terms are part of what an artist signed.
    """
    if terms is None:
        return dict(DEFAULT_CONSENT_TERMS)
    if not isinstance(terms, Mapping):
        raise TermsError("Terms must be an object of yes/no choices.")
    unknown = sorted(set(terms) - set(TERM_KEYS))
    if unknown:
        raise TermsError(f"Unknown terms: {', '.join(unknown)}.")
    result: dict[str, bool] = {}
    for key in TERM_KEYS:
        value = terms.get(key, DEFAULT_CONSENT_TERMS[key])
        if not isinstance(value, bool):
            raise TermsError(f"Term {key!r} must be true or false.")
        result[key] = value
    return result


def terms_intersection(all_terms: Iterable[Mapping[str, bool]]) -> dict[str, bool]:
    """The terms every artist agreed to: AND over permissions.

    `unpublish_on_revoke` is a protection, not a permission, so the most
    protective choice wins (OR): if any artist wants remixes unpublished on
    revocation, they are.
    """
    all_terms = [normalize_terms(terms) for terms in all_terms]
    if not all_terms:
        return dict.fromkeys(PERMISSION_KEYS, False) | {UNPUBLISH_KEY: True}
    result = {key: all(terms[key] for terms in all_terms) for key in PERMISSION_KEYS}
    result[UNPUBLISH_KEY] = any(terms[UNPUBLISH_KEY] for terms in all_terms)
    return result
