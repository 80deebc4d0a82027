"""The rights and consent catalog. `DEFAULT_CONSENT_TERMS` is importable from here."""

from .terms import DEFAULT_CONSENT_TERMS, TERM_KEYS

__all__ = ["DEFAULT_CONSENT_TERMS", "TERM_KEYS"]
