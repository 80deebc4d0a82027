"""The remixability rule over every combination of consent, splits and takedown,
and the SQL form of the rule agreeing with the Python form."""

import itertools
from dataclasses import astuple, dataclass

import pytest
from django.db import connection
from django.utils import timezone

from catalog import services
from catalog.models import Party, Recording, SplitShare, SplitVersion
from catalog.selectors import (
    recording_list_remixable,
    recording_list_remixable_sql,
    recording_remixability,
    recording_remixability_map,
)
from tests.fixtures.shared_world import rolled_back

from .factories import (
    PartyFactory,
    RecordingFactory,
    WorkFactory,
    artist_user,
    credit,
    remixable_recording,
    staff_user,
)

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
            # The matrix is one transaction: the next case's splits are checked again.
            for table, trigger in SUM_TRIGGERS:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    # Around the service, so the stored state is derived by hand here.
    owner_recordings = (
        [owner["recording"]] if "recording" in owner else owner["work"].recordings.all()
    )
    services.recording_remixability_refresh(recording_ids=[r.pk for r in owner_recordings])


def _apply_consent(state, party, user, recordings):
    if state == "granted":
        services.consent_grant(party=party, actor=user)
    elif state == "revoked":
        services.consent_grant(party=party, actor=user)
        services.consent_revoke(party=party, actor=user)
    elif state == "granted_then_recording_revoked":
        services.consent_grant(party=party, actor=user)
        for recording in recordings:
            services.consent_revoke(party=party, actor=user, recording=recording)


@dataclass(frozen=True)
class Case:
    consent_a: str
    consent_b: str
    master: str
    publishing: str
    takedown: bool

    def __str__(self) -> str:
        return "-".join(str(value) for value in astuple(self))


@dataclass
class Built:
    recording: Recording
    party_a: Party
    party_b: Party

    def expected_reasons(self, case: Case) -> list[tuple[str, int | None]]:
        expected = []
        for state, party in ((case.consent_a, self.party_a), (case.consent_b, self.party_b)):
            if state != "granted":
                expected.append(("consent_missing", party.pk))
        if case.master != "complete":
            expected.append(("master_split_incomplete", None))
        if case.publishing != "complete":
            expected.append(("publishing_split_incomplete", None))
        if case.takedown:
            expected.append(("takedown", None))
        return sorted(expected, key=lambda item: (item[0], item[1] or 0))


CASES = [
    Case(*combination)
    for combination in itertools.product(CONSENT, CONSENT, SPLIT, WORK, [False, True])
]


def _build_consent_pair(consent_a: str, consent_b: str, staff) -> dict[Case, Built]:
    """The 24 recordings of one consent pair: two artists credited on each,
    every split and takedown combination; one work per publishing state.
    Every write goes through the service that refreshes the stored state
    (recording_create credits both artists and refreshes once)."""
    user_a, party_a = artist_user("A")
    user_b, party_b = artist_user("B")
    works = {state: None if state == "no_work" else WorkFactory() for state in WORK}
    built: dict[Case, Built] = {}
    for master, publishing, takedown in itertools.product(SPLIT, WORK, [False, True]):
        case = Case(consent_a, consent_b, master, publishing, takedown)
        recording = services.recording_create(
            title=f"Matrix {case}",
            main_artists=[party_a, party_b],
            work=works[publishing],
            genre="electronic",
            duration_ms=180_000,
        )
        built[case] = Built(recording, party_a, party_b)
    recordings = [item.recording for item in built.values()]
    _apply_consent(consent_a, party_a, user_a, recordings)
    _apply_consent(consent_b, party_b, user_b, recordings)
    for case, item in built.items():
        if case.master == "complete":
            services.split_version_create(
                recording=item.recording,
                shares=[(party_a, 5000), (party_b, 5000)],
                check_permission=False,
            )
        elif case.master == "partial":
            _partial_split(recording=item.recording)
        if case.takedown:
            services.takedown_place(recording=item.recording, actor=staff, reason="claim")
    services.split_version_create(
        work=works["complete"],
        shares=[(PartyFactory(kind="songwriter"), 10_000)],
        check_permission=False,
    )
    _partial_split(work=works["partial"])
    return built


@pytest.fixture(scope="class")
def matrix(django_db_setup, django_db_blocker):
    """All 384 combinations, built once in one transaction that is rolled back
    after the class (each test runs in a savepoint inside it)."""
    with rolled_back(django_db_blocker):
        staff = staff_user()
        built: dict[Case, Built] = {}
        for consent_a, consent_b in itertools.product(CONSENT, CONSENT):
            built.update(_build_consent_pair(consent_a, consent_b, staff))
        yield built


# One test process builds the matrix once (pytest-xdist keeps the class together).
@pytest.mark.xdist_group("catalog-remixability-matrix")
class TestEveryCombination:
    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_rule_over_every_combination(self, matrix, case):
        built = matrix[case]
        result = recording_remixability(recording=built.recording)
        codes = sorted((r.code, r.party_id) for r in result.reasons)
        expected = built.expected_reasons(case)
        assert codes == expected
        assert result.remixable is (not expected)
        assert all(reason.message for reason in result.reasons)
        if result.remixable:
            assert len(result.consent_event_ids) == 2
            assert result.master_split_version_id and result.publishing_split_version_id
            assert result.terms["publication"] is True
        else:
            assert result.terms == {}

    def test_sql_form_stored_state_and_list_agree_over_every_combination(
        self, matrix, django_assert_num_queries
    ):
        """The SQL form of the rule, the state each write stored and the indexed
        list agree with the truth table for the whole matrix, each in one query."""
        expected = {
            built.recording.pk: (
                not built.expected_reasons(case),
                ",".join(sorted({code for code, _ in built.expected_reasons(case)})),
            )
            for case, built in matrix.items()
        }
        assert len(expected) == len(CASES) == 384
        with django_assert_num_queries(1):
            by_sql = dict(
                recording_list_remixable_sql()
                .filter(pk__in=expected)
                .values_list("pk", "remixable")
            )
        with django_assert_num_queries(1):
            stored = {
                pk: (is_remixable, reasons)
                for pk, is_remixable, reasons in Recording.objects.filter(
                    pk__in=expected
                ).values_list("pk", "is_remixable", "remixability_reasons")
            }
        with django_assert_num_queries(1):
            listed = set(
                recording_list_remixable().filter(pk__in=expected).values_list("pk", flat=True)
            )
        assert by_sql == {pk: remixable for pk, (remixable, _) in expected.items()}
        assert stored == expected
        assert listed == {pk for pk, (remixable, _) in expected.items() if remixable}
        # Both outcomes occur: the matrix is not all one answer.
        assert 0 < len(listed) < len(expected)


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


def test_a_scheduled_split_leaves_the_list_until_refreshed():
    recording, _, _ = remixable_recording("Sched")
    later = timezone.now() + timezone.timedelta(hours=1)
    services.split_version_create(
        recording=recording,
        shares=[(PartyFactory(kind="label"), 10_000)],
        effective_from=later,
        check_permission=False,
    )
    stored = Recording.objects.get(pk=recording.pk)
    assert stored.is_remixable and stored.remixability_due_at == later
    assert recording_list_remixable().filter(pk=recording.pk).exists()
    Recording.objects.filter(pk=recording.pk).update(remixability_due_at=timezone.now())
    assert not recording_list_remixable().filter(pk=recording.pk).exists()  # due: not trusted
    assert services.recording_remixability_refresh_due() == 1
    assert recording_list_remixable().filter(pk=recording.pk).exists()
    assert Recording.objects.get(pk=recording.pk).remixability_due_at == later
