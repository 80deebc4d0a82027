"""Consent services: ownership, scopes, idempotency, state and signals."""

import pytest

from catalog import DEFAULT_CONSENT_TERMS, TERM_KEYS, services, signals
from catalog.models import ConsentEvent, ConsentState
from catalog.selectors import consent_effective, recording_remixability
from core.errors import DomainError

from .factories import (
    RecordingFactory,
    UserFactory,
    artist_user,
    credit,
    remixable_recording,
    staff_user,
)

pytestmark = pytest.mark.django_db


def test_default_terms_have_exactly_the_interface_keys():
    assert set(DEFAULT_CONSENT_TERMS) == {
        "stem_volume",
        "tempo",
        "key",
        "effects",
        "vocals_removed",
        "vocals_isolated",
        "publication",
        "arrangement",
        "covers",
        "unpublish_on_revoke",
    }
    # Re-arranging came after artists had granted: a grant that does not name it
    # does not allow it; everything else a plain grant allows.
    # Covers likewise: off until the artist switches them on.
    assert DEFAULT_CONSENT_TERMS["arrangement"] is False
    assert DEFAULT_CONSENT_TERMS["covers"] is False
    late = {"arrangement", "covers"}
    assert all(v for k, v in DEFAULT_CONSENT_TERMS.items() if k not in late)
    assert set(TERM_KEYS) == set(DEFAULT_CONSENT_TERMS)


def test_grant_writes_event_and_state_together():
    user, party = artist_user()
    event = services.consent_grant(party=party, actor=user, reason="yes")
    state = ConsentState.objects.get(party=party, recording=None)
    assert state.event == event and state.is_granted
    assert event.terms == DEFAULT_CONSENT_TERMS
    assert event.seq == 1 and len(event.hash) == 64


def test_grant_is_idempotent_with_same_terms():
    user, party = artist_user()
    first = services.consent_grant(party=party, actor=user)
    again = services.consent_grant(party=party, actor=user)
    assert first == again
    assert ConsentEvent.objects.count() == 1


@pytest.mark.parametrize("who", ["fan", "other_artist", "staff", "unverified_owner"])
def test_only_the_verified_owner_changes_consent(who):
    _, party = artist_user()
    if who == "fan":
        actor = UserFactory()
    elif who == "other_artist":
        actor = artist_user("Other")[0]
    elif who == "staff":
        actor = staff_user()
    else:
        actor, party = artist_user("Pending", verified=False)
    for service in (services.consent_grant, services.consent_revoke):
        with pytest.raises(DomainError) as error:
            service(party=party, actor=actor)
        assert "party" in error.value.fields
    assert not ConsentEvent.objects.exists()


def test_bad_terms_are_field_errors():
    user, party = artist_user()
    with pytest.raises(DomainError) as error:
        services.consent_grant(party=party, actor=user, terms={"remix_everything": True})
    assert "terms" in error.value.fields
    with pytest.raises(DomainError):
        services.consent_grant(party=party, actor=user, terms={"tempo": "yes"})
    assert not ConsentEvent.objects.exists()


def test_recording_scope_must_be_the_artists_own():
    user, party = artist_user()
    recording = RecordingFactory()
    with pytest.raises(DomainError) as error:
        services.consent_grant(party=party, actor=user, recording=recording)
    assert "recording" in error.value.fields


def test_latest_statement_wins_between_scopes():
    user, party = artist_user()
    recording = RecordingFactory()
    credit(recording, party)
    services.consent_grant(party=party, actor=user)
    assert consent_effective(party=party, recording=recording).granted
    services.consent_revoke(party=party, actor=user, recording=recording)
    assert not consent_effective(party=party, recording=recording).granted
    assert consent_effective(party=party, recording=None).granted
    services.consent_grant(party=party, actor=user, recording=recording)
    services.consent_revoke(party=party, actor=user)  # catalog-wide, later: wins
    assert not consent_effective(party=party, recording=recording).granted


def test_terms_change_requires_consent_and_changes_effective_terms():
    recording, party, user = remixable_recording()
    terms = dict(DEFAULT_CONSENT_TERMS, vocals_isolated=False)
    services.consent_terms_change(party=party, actor=user, terms=terms, reason="no a cappella")
    assert recording_remixability(recording=recording).terms["vocals_isolated"] is False
    services.consent_revoke(party=party, actor=user)
    with pytest.raises(DomainError) as error:
        services.consent_terms_change(party=party, actor=user, terms=terms)
    assert "terms" in error.value.fields


def test_revoke_sends_signal_after_commit(django_capture_on_commit_callbacks):
    recording, party, user = remixable_recording()
    received = []
    signals.consent_revoked.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        services.consent_terms_change(
            party=party, actor=user, terms=dict(DEFAULT_CONSENT_TERMS, unpublish_on_revoke=False)
        )
        with django_capture_on_commit_callbacks(execute=True):
            event = services.consent_revoke(party=party, actor=user, reason="done")
            assert received == []  # nothing before commit
    finally:
        signals.consent_revoked.disconnect(dispatch_uid="t")
    assert received[0]["party_id"] == party.pk
    assert received[0]["recording_ids"] == [recording.pk]
    assert received[0]["unpublish"] is False
    assert received[0]["event_id"] == event.pk
    assert not recording_remixability(recording=recording).remixable


def test_takedown_place_and_lift_are_ledger_events(django_capture_on_commit_callbacks):
    recording, _, _ = remixable_recording()
    staff = staff_user()
    received = []
    signals.takedown_placed.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            takedown = services.takedown_place(recording=recording, actor=staff, reason="DMCA")
    finally:
        signals.takedown_placed.disconnect(dispatch_uid="t")
    assert received[0]["recording_ids"] == [recording.pk]
    result = recording_remixability(recording=recording)
    assert [r.code for r in result.reasons] == ["takedown"]
    with pytest.raises(DomainError):
        services.takedown_place(recording=recording, actor=staff, reason="again")
    services.takedown_lift(recording=recording, actor=staff, reason="counter-notice")
    takedown.refresh_from_db()
    assert not takedown.in_force
    assert recording_remixability(recording=recording).remixable
    kinds = list(ConsentEvent.objects.values_list("kind", flat=True))
    assert kinds[-2:] == ["takedown_place", "takedown_lift"]


def test_takedown_needs_staff_and_reason():
    recording, _, user = remixable_recording()
    with pytest.raises(DomainError):
        services.takedown_place(recording=recording, actor=user, reason="mine")
    with pytest.raises(DomainError) as error:
        services.takedown_place(recording=recording, actor=staff_user(), reason=" ")
    assert "reason" in error.value.fields
