"""Unpublish-on-revoke: what the revoke confirmation page promises is what the
revocation does, for each terms case (one rule: catalog.terms.revocation_unpublishes)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalog import services, signals
from catalog.terms import DEFAULT_CONSENT_TERMS

from .factories import RecordingFactory, artist_user, complete_splits, credit

pytestmark = pytest.mark.django_db

WILL_UNPUBLISH = "published will be unpublished"
WILL_STAY = "stay published"


def _no_terms(party, user, recording):
    """Never granted: no terms were ever recorded."""


def _default_terms(party, user, recording):
    services.consent_grant(party=party, actor=user)


def _keep_published(party, user, recording):
    services.consent_grant(
        party=party, actor=user, terms=DEFAULT_CONSENT_TERMS | {"unpublish_on_revoke": False}
    )


def _recording_says_unpublish(party, user, recording):
    # Catalog-wide: keep published; this recording's own (later) terms: unpublish.
    _keep_published(party, user, recording)
    services.consent_grant(party=party, actor=user, recording=recording)


def _recording_says_keep(party, user, recording):
    services.consent_grant(party=party, actor=user)
    services.consent_terms_change(
        party=party,
        actor=user,
        recording=recording,
        terms=DEFAULT_CONSENT_TERMS | {"unpublish_on_revoke": False},
    )


def _already_revoked(party, user, recording):
    _keep_published(party, user, recording)
    services.consent_revoke(party=party, actor=user)


CASES = {
    # case: (setup, scope of the revocation, what happens)
    "no terms recorded": (_no_terms, "catalog", True),
    "default terms": (_default_terms, "catalog", True),
    "terms keep remixes published": (_keep_published, "catalog", False),
    "recording's own terms unpublish": (_recording_says_unpublish, "recording", True),
    "recording's own terms keep": (_recording_says_keep, "recording", False),
    "recording's terms keep, catalog-wide revoke": (_recording_says_keep, "catalog", True),
    "revoked already, revoked again for one recording": (_already_revoked, "recording", False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_page_promises_what_the_revocation_does(case, django_capture_on_commit_callbacks):
    setup, scope, expected = CASES[case]
    user, party = artist_user("Nova")
    recording = RecordingFactory(title="Blue Hour")
    credit(recording, party)
    complete_splits(recording)
    setup(party, user, recording)
    client = Client()
    client.force_login(user)
    url = reverse("catalog:consent_revoke", args=[party.pk])
    if scope == "recording":
        url += f"?recording={recording.pk}"

    page = client.get(url).content.decode()
    promised = WILL_UNPUBLISH in page
    assert promised != (WILL_STAY in page), "the page promises exactly one outcome"

    announced: list[bool] = []

    def receiver(sender, *, unpublish, **kwargs):
        announced.append(unpublish)

    signals.consent_revoked.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            data = {"reason": "done"}
            if scope == "recording":
                data["recording"] = recording.pk
            response = client.post(url, data)
    finally:
        signals.consent_revoked.disconnect(receiver)
    assert response.status_code == 302
    assert announced == [expected]
    assert promised == expected
