"""Consent terms: which transformations an artist allows (no Django imports).

The key set is an interface other apps rely on; it never grows silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentTerm:
    """One yes/no choice in an artist's consent terms."""

    key: str
    # What the artist agrees to, on the consent form and in the audit trail.
    label: str
    # The studio control it governs (None: not a property of a recipe). A
    # remix using a refused term is told "<control> is not allowed ...".
    control: str | None = None
    # What a grant that does not mention it means. False for permissions added
    # after artists had granted: a grant never covers what it did not name.
    default: bool = True

    @property
    def refusal(self) -> str:
        return f"{self.control or self.label} is not allowed by the artist's terms."


# The one table of consent terms: the consent form, the API, the audit trail,
# the recipe checks (given to the remixing engine as data) and the studio all
# read it.
CONSENT_TERMS: tuple[ConsentTerm, ...] = (
    ConsentTerm("stem_volume", "Change stem volumes or mute stems", "Stem volume, mute and solo"),
    ConsentTerm("tempo", "Change the tempo", "Tempo"),
    ConsentTerm("key", "Change the key (pitch shift)", "Key"),
    ConsentTerm("effects", "Add effects", "Effects"),
    ConsentTerm("vocals_removed", "Remove the vocals (instrumental)", "Removing the vocals"),
    ConsentTerm("vocals_isolated", "Isolate the vocals (a cappella)", "Isolating the vocals"),
    ConsentTerm(
        "arrangement",
        "Re-arrange the track (reorder, repeat or cut its sections)",
        "Re-arranging the track",
        default=False,
    ),
    ConsentTerm(
        "covers",
        "Let fans sing their own cover vocal over the track",
        "Recording a cover vocal",
        default=False,
    ),
    ConsentTerm("publication", "Publish remixes publicly"),
    # A protection, not a permission: what happens to already published
    # remixes when consent is revoked.
    ConsentTerm("unpublish_on_revoke", "When I revoke consent, unpublish existing remixes"),
)

UNPUBLISH_KEY = "unpublish_on_revoke"
TERM_KEYS: tuple[str, ...] = tuple(term.key for term in CONSENT_TERMS)
# What a remix may do to the recording.
PERMISSION_KEYS: tuple[str, ...] = tuple(key for key in TERM_KEYS if key != UNPUBLISH_KEY)
# The permissions a recipe can use (the remixing engine detects these).
RECIPE_TERM_KEYS: tuple[str, ...] = tuple(t.key for t in CONSENT_TERMS if t.control)
TERM_LABELS: dict[str, str] = {term.key: term.label for term in CONSENT_TERMS}
TERM_REFUSALS: dict[str, str] = {t.key: t.refusal for t in CONSENT_TERMS if t.control}

DEFAULT_CONSENT_TERMS: dict[str, bool] = {term.key: term.default for term in CONSENT_TERMS}


class TermsError(ValueError):
    """Terms that are not exactly the known boolean keys."""


def normalize_terms(terms: Mapping[str, object] | None) -> dict[str, bool]:
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


def recipe_terms_refused(terms: Mapping[str, bool] | None) -> dict[str, str]:
    """{term: why} for each recipe term the rights holders do not allow.

    Fails closed: a term that is missing counts as refused. The studio shows
    these next to its controls; the recipe check reports them per field.
    """
    terms = terms or {}
    return {key: TERM_REFUSALS[key] for key in RECIPE_TERM_KEYS if terms.get(key) is not True}


def revocation_unpublishes(terms_in_force: Mapping[str, bool] | None) -> bool:
    """Whether revoking consent under these terms unpublishes existing remixes.

    The one place this is decided: the revoke confirmation page promises it
    and the revocation does it. With no terms recorded, the protective
    default holds (the same as DEFAULT_CONSENT_TERMS): remixes are unpublished.
    """
    if terms_in_force is None:
        return True
    return normalize_terms(terms_in_force)[UNPUBLISH_KEY]
