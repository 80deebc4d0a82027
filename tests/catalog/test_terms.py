"""The one table of consent terms, and what each caller reads from it (pure)."""

from __future__ import annotations

from catalog.terms import (
    CONSENT_TERMS,
    PERMISSION_KEYS,
    RECIPE_TERM_KEYS,
    TERM_KEYS,
    TERM_LABELS,
    recipe_terms_refused,
    revocation_unpublishes,
)
from remixing.engine.recipe import RECIPE_TERMS


def test_the_table_gives_every_key_list():
    assert TERM_KEYS == (
        "stem_volume",
        "tempo",
        "key",
        "effects",
        "vocals_removed",
        "vocals_isolated",
        "arrangement",
        "covers",
        "publication",
        "unpublish_on_revoke",
    )
    assert PERMISSION_KEYS == TERM_KEYS[:-1]
    assert set(TERM_LABELS) == set(TERM_KEYS)
    assert len({term.key for term in CONSENT_TERMS}) == len(CONSENT_TERMS)


def test_the_engine_detects_exactly_the_recipe_terms_of_the_table():
    assert RECIPE_TERMS == RECIPE_TERM_KEYS


def test_refused_recipe_terms_fail_closed():
    allowed_all = dict.fromkeys(TERM_KEYS, True)
    assert recipe_terms_refused(allowed_all) == {}
    assert recipe_terms_refused(allowed_all | {"tempo": False, "publication": False}) == {
        "tempo": "Tempo is not allowed by the artist's terms."
    }
    assert set(recipe_terms_refused(None)) == set(RECIPE_TERM_KEYS)
    assert recipe_terms_refused({"key": True, "vocals_isolated": "yes"}) == {
        key: message for key, message in recipe_terms_refused({}).items() if key != "key"
    }


def test_revocation_unpublishes_unless_the_terms_say_keep():
    assert revocation_unpublishes(None) is True
    assert revocation_unpublishes({}) is True
    assert revocation_unpublishes({"unpublish_on_revoke": False}) is False
    assert revocation_unpublishes({"unpublish_on_revoke": True, "tempo": False}) is True
