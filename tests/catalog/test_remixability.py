"""The remixability rule over every combination of consent, splits and takedown,
and the SQL form of the rule agreeing with the Python form."""

import itertools

import pytest
from django.db import connection
from django.utils import timezone

from catalog import services
from catalog.models import SplitShare, SplitVersion
from catalog.selectors import (
    recording_list_remixable,
    recording_remixability,
    recording_remixability_map,
)

from .factories import PartyFactory, RecordingFactory, WorkFactory, artist_user, credit, staff_user

pytestmark = pytest.mark.django_db

CONSENT = ["none", "granted", "revoked", "granted_then_recording_revoked"]
SPLIT = ["none", "partial", "complete"]
WORK = ["no_work", *SPLIT]


SUM_TRIGGERS = [
    ("catalog_splitversion", "catalog_splitversion_sum"),
    ("catalog_splitshare", "catalog_splitshare_sum"),
]


def _partial_split(**owner):
    """Only reachable around the service, and on PostgreSQL only with the
    sum trigger off: the rule must still say no (defence in depth)."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in SUM_TRIGGERS:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        version = SplitVersion.objects.create(
            side="master" if "recording" in owner else "publishing",
            number=1,
            effective_from=timezone.now(),
            **owner,
        )
        SplitShare.objects.create(version=version, party=PartyFactory(kind="label"), bps=4000)
        if postgres:
            for table, trigger in SUM_TRIGGERS:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to their default


def _apply_consent(state, party, user, recording):
    if state == "granted":
        services.consent_grant(party=party, actor=user)
    elif state == "revoked":
        services.consent_grant(party=party, actor=user)
        services.consent_revoke(party=party, actor=user)
    elif state == "granted_then_recording_revoked":
        services.consent_grant(party=party, actor=user)
        services.consent_revoke(party=party, actor=user, recording=recording)


@pytest.mark.parametrize(
    ("consent_a", "consent_b", "master", "publishing", "takedown"),
    list(itertools.product(CONSENT, CONSENT, SPLIT, WORK, [False, True])),
)
def test_rule_over_every_combination(consent_a, consent_b, master, publishing, takedown):
    user_a, party_a = artist_user("A")
    user_b, party_b = artist_user("B")
    work = None if publishing == "no_work" else WorkFactory()
    recording = RecordingFactory(work=work)
    credit(recording, party_a, order=0)
    credit(recording, party_b, order=1)
    _apply_consent(consent_a, party_a, user_a, recording)
    _apply_consent(consent_b, party_b, user_b, recording)
    if master == "complete":
        services.split_version_create(
            recording=recording, shares=[(party_a, 5000), (party_b, 5000)], check_permission=False
        )
    elif master == "partial":
        _partial_split(recording=recording)
    if publishing == "complete":
        services.split_version_create(
            work=work, shares=[(PartyFactory(kind="songwriter"), 10_000)], check_permission=False
        )
    elif publishing == "partial":
        _partial_split(work=work)
    if takedown:
        services.takedown_place(recording=recording, actor=staff_user(), reason="claim")

    result = recording_remixability(recording=recording)
    codes = sorted((r.code, r.party_id) for r in result.reasons)
    expected = []
    for state, party in ((consent_a, party_a), (consent_b, party_b)):
        if state != "granted":
            expected.append(("consent_missing", party.pk))
    if master != "complete":
        expected.append(("master_split_incomplete", None))
    if publishing != "complete":
        expected.append(("publishing_split_incomplete", None))
    if takedown:
        expected.append(("takedown", None))
    assert codes == sorted(expected, key=lambda item: (item[0], item[1] or 0))
    assert result.remixable is (not expected)
    assert all(reason.message for reason in result.reasons)
    if result.remixable:
        assert len(result.consent_event_ids) == 2
        assert result.master_split_version_id and result.publishing_split_version_id
        assert result.terms["publication"] is True
    else:
        assert result.terms == {}
    # The SQL form of the rule, used to filter lists, agrees.
    listed = recording_list_remixable(remixable_only=False).get(pk=recording.pk)
    assert listed.remixable is result.remixable
    assert recording_list_remixable().filter(pk=recording.pk).exists() is result.remixable


def test_no_main_artist_is_a_reason():
    recording = RecordingFactory()
    result = recording_remixability(recording=recording)
    assert "no_main_artist" in [r.code for r in result.reasons]
    assert not recording_list_remixable().filter(pk=recording.pk).exists()


def test_featured_artists_need_no_consent():
    user, party = artist_user("Main")
    _, featured = artist_user("Guest")
    recording = RecordingFactory(work=WorkFactory())
    credit(recording, party)
    credit(recording, featured, role="featured", order=1)
    services.split_version_create(
        recording=recording, shares=[(party, 10_000)], check_permission=False
    )
    services.split_version_create(
        work=recording.work,
        shares=[(PartyFactory(kind="songwriter"), 10_000)],
        check_permission=False,
    )
    services.consent_grant(party=party, actor=user)
    assert recording_remixability(recording=recording).remixable


def test_effective_terms_are_the_intersection():
    user_a, party_a = artist_user("A")
    user_b, party_b = artist_user("B")
    recording = RecordingFactory(work=WorkFactory())
    credit(recording, party_a)
    credit(recording, party_b, order=1)
    services.split_version_create(
        recording=recording, shares=[(party_a, 5000), (party_b, 5000)], check_permission=False
    )
    services.split_version_create(
        work=recording.work,
        shares=[(PartyFactory(kind="songwriter"), 10_000)],
        check_permission=False,
    )
    services.consent_grant(
        party=party_a, actor=user_a, terms={"tempo": False, "unpublish_on_revoke": False}
    )
    services.consent_grant(
        party=party_b, actor=user_b, terms={"key": False, "unpublish_on_revoke": False}
    )
    terms = recording_remixability(recording=recording).terms
    assert terms["tempo"] is False and terms["key"] is False and terms["effects"] is True
    assert terms["unpublish_on_revoke"] is False


def test_future_split_version_is_not_yet_in_effect():
    _, party = artist_user()
    recording = RecordingFactory(work=WorkFactory())
    credit(recording, party)
    services.split_version_create(
        recording=recording,
        shares=[(party, 10_000)],
        effective_from=timezone.now() + timezone.timedelta(days=1),
        check_permission=False,
    )
    result = recording_remixability(recording=recording)
    assert "master_split_incomplete" in [r.code for r in result.reasons]


def test_list_has_no_n_plus_one(django_assert_max_num_queries):
    for index in range(6):
        _, party = artist_user(f"Artist {index}")
        recording = RecordingFactory(work=WorkFactory(), genre="house" if index % 2 else "pop")
        credit(recording, party)
    with django_assert_max_num_queries(8):
        page = list(recording_list_remixable(remixable_only=False))
        recording_remixability_map(page)
        names = [c.party.name for r in page for c in r.artists.all()]
    assert len(names) == 6
    assert recording_list_remixable(remixable_only=False, genre="house").count() == 3
