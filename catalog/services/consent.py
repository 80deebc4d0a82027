"""Consent: grant, revoke and change terms, by the artist who owns the party."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from catalog import signals
from catalog.models import ConsentEvent, ConsentState, Party, Recording, RecordingArtist
from catalog.selectors import consent_effective, user_owns_party
from catalog.terms import TermsError, normalize_terms, revocation_unpublishes
from core.errors import DomainError

from .ledger import ledger_append
from .listing_state import recording_remixability_refresh


def _check_actor_and_scope(*, party: Party, actor, recording: Recording | None) -> None:
    """Consent comes only from the person who owns the artist party.

    Reported as a field error on `party`, like any other bad input: nothing
    is stored.
    """
    if party.kind != Party.Kind.ARTIST:
        raise DomainError(
            "Only artists give or withdraw remix consent.",
            code="not_an_artist",
            fields={"party": [f"{party.name} is a {party.get_kind_display().lower()}."]},
        )
    if not user_owns_party(user=actor, party=party):
        raise DomainError(
            "You can only change consent for an artist you have claimed and staff have verified.",
            code="not_party_owner",
            fields={"party": ["You do not own this artist."]},
        )
    if (
        recording is not None
        and not RecordingArtist.objects.filter(
            recording=recording, party=party, role=RecordingArtist.Role.MAIN
        ).exists()
    ):
        raise DomainError(
            f"{party.name} is not a main artist on “{recording.title}”.",
            code="not_on_recording",
            fields={"recording": ["Not one of this artist's recordings."]},
        )


def _terms_or_error(terms) -> dict:
    try:
        return normalize_terms(terms)
    except TermsError as error:
        raise DomainError(
            str(error), code="invalid_terms", fields={"terms": [str(error)]}
        ) from None


def _write_state(*, event: ConsentEvent, status: str, terms: dict) -> None:
    ConsentState.objects.update_or_create(
        party=event.party,
        recording=event.recording,
        defaults={
            "status": status,
            "terms": terms,
            "event": event,
            "seq": event.seq,
            "updated_at": event.created_at,
        },
    )
    # Same transaction as the event: lists never show a stale verdict.
    affected = _affected_recording_ids(party=event.party, recording=event.recording)
    recording_remixability_refresh(recording_ids=affected)


def _affected_recording_ids(*, party: Party, recording: Recording | None) -> list[int]:
    if recording is not None:
        return [recording.pk]
    return list(
        Recording.objects.filter(artists__party=party, artists__role="main")
        .values_list("pk", flat=True)
        .distinct()
    )


def _announce(event: ConsentEvent, *, unpublish: bool | None = None) -> None:
    recording_ids = _affected_recording_ids(party=event.party, recording=event.recording)
    send = partial(
        signals.consent_changed.send,
        sender=ConsentEvent,
        party_id=event.party_id,
        recording_ids=recording_ids,
        event_id=event.pk,
        kind=event.kind,
    )
    transaction.on_commit(send)
    if event.kind == ConsentEvent.Kind.REVOKE:
        transaction.on_commit(
            partial(
                signals.consent_revoked.send,
                sender=ConsentEvent,
                party_id=event.party_id,
                recording_ids=recording_ids,
                unpublish=bool(unpublish),
                event_id=event.pk,
            )
        )


def _own_state(party: Party, recording: Recording | None) -> ConsentState | None:
    return (
        # Only the state row: a plain FOR UPDATE would also lock the joined
        # (append-only) event, which a concurrent remix references by foreign
        # key; its deferred check at COMMIT then waits on us while we wait on
        # its recording lock (a deadlock seen under racing revocations).
        ConsentState.objects.select_for_update(of=("self",))
        .filter(party=party, recording=recording)
        .select_related("event")
        .first()
    )


@transaction.atomic
def consent_grant(
    *,
    party: Party,
    actor,
    recording: Recording | None = None,
    terms: dict | None = None,
    reason: str = "",
) -> ConsentEvent:
    """Allow remixes of the party's whole catalog (recording=None) or of one
    recording, under `terms`. Granting what is already granted, with the same
    terms, returns the existing event (idempotent)."""
    _check_actor_and_scope(party=party, actor=actor, recording=recording)
    terms = _terms_or_error(terms)
    own = _own_state(party, recording)
    effective = consent_effective(party=party, recording=recording)
    if own is not None and own.is_granted and own.terms == terms and effective.granted:
        return own.event
    event = ledger_append(
        kind=ConsentEvent.Kind.GRANT,
        actor=actor,
        party=party,
        recording=recording,
        reason=reason,
        terms=terms,
    )
    _write_state(event=event, status=ConsentState.Status.GRANTED, terms=terms)
    _announce(event)
    return event


@transaction.atomic
def consent_revoke(
    *, party: Party, actor, recording: Recording | None = None, reason: str = ""
) -> ConsentEvent:
    """Withdraw consent. New remixes stop at once (the rule reads the state
    written here); higher apps get `consent_revoked` after commit, with
    `unpublish` taken from the terms that were in force."""
    _check_actor_and_scope(party=party, actor=actor, recording=recording)
    own = _own_state(party, recording)
    effective = consent_effective(party=party, recording=recording)
    if own is not None and not own.is_granted and not effective.granted:
        return own.event
    # The own state is one of the states `effective` weighs, so its terms
    # are the ones in force (None when no terms were ever recorded).
    in_force = effective.terms
    unpublish = revocation_unpublishes(in_force)
    event = ledger_append(
        kind=ConsentEvent.Kind.REVOKE,
        actor=actor,
        party=party,
        recording=recording,
        reason=reason,
        terms=in_force,
    )
    _write_state(
        event=event, status=ConsentState.Status.REVOKED, terms=in_force or normalize_terms(None)
    )
    _announce(event, unpublish=unpublish)
    return event


@transaction.atomic
def consent_terms_change(
    *,
    party: Party,
    actor,
    recording: Recording | None = None,
    terms: dict,
    reason: str = "",
) -> ConsentEvent:
    """Change what remixes may do, where consent is granted. For one
    recording covered by catalog-wide consent, this sets its own terms."""
    _check_actor_and_scope(party=party, actor=actor, recording=recording)
    terms = _terms_or_error(terms)
    effective = consent_effective(party=party, recording=recording)
    if not effective.granted:
        raise DomainError(
            "Consent is not granted here, so there are no terms to change. Grant consent first.",
            code="not_granted",
            fields={"terms": ["Grant consent before changing its terms."]},
        )
    own = _own_state(party, recording)
    if effective.terms == terms and own is not None and own.is_granted:
        return own.event
    event = ledger_append(
        kind=ConsentEvent.Kind.TERMS_CHANGE,
        actor=actor,
        party=party,
        recording=recording,
        reason=reason,
        terms=terms,
    )
    _write_state(event=event, status=ConsentState.Status.GRANTED, terms=terms)
    _announce(event)
    return event
