"""Split versions: validation, versioning and database enforcement."""

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import services
from catalog.models import SplitShare, SplitVersion
from catalog.services.splits import split_shares_validate
from core.errors import DomainError, PermissionDenied

from .factories import PartyFactory, RecordingFactory, WorkFactory, artist_user, credit


# Pure rules first (no database): the validation every split passes through.
class FakeParty:
    def __init__(self, pk, kind="artist"):
        self.pk, self.kind, self.name = pk, kind, f"P{pk}"


# No deadline: a shared 2-core machine makes 200 ms noise, not a regression.
@settings(deadline=None)
@given(st.lists(st.integers(-20_000, 20_000), min_size=0, max_size=8))
def test_split_validation_accepts_exactly_the_full_positive_sums(values):
    shares = [(FakeParty(i), bps) for i, bps in enumerate(values)]
    ok = bool(values) and all(0 < v <= 10_000 for v in values) and sum(values) == 10_000
    if ok:
        assert split_shares_validate(shares=shares, allowed_kinds={"artist"}) == shares
    else:
        with pytest.raises(DomainError) as error:
            split_shares_validate(shares=shares, allowed_kinds={"artist"})
        assert error.value.fields["shares"]


@settings(deadline=None)
@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=10))
def test_split_parts_that_sum_to_whole_pass(values):
    # Rescale into parts that sum to exactly 10000 (largest remainder).
    total = sum(values)
    parts = [v * 10_000 // total for v in values]
    parts[0] += 10_000 - sum(parts)
    if any(p <= 0 for p in parts):
        return
    shares = [(FakeParty(i), p) for i, p in enumerate(parts)]
    assert split_shares_validate(shares=shares, allowed_kinds={"artist"})


def test_duplicate_party_and_wrong_kind_are_refused():
    party = FakeParty(1)
    with pytest.raises(DomainError, match="more than once"):
        split_shares_validate(shares=[(party, 5000), (party, 5000)], allowed_kinds={"artist"})
    with pytest.raises(DomainError, match="songwriter"):
        split_shares_validate(
            shares=[(FakeParty(2, "songwriter"), 10_000)], allowed_kinds={"artist"}
        )


# No deadline: each example writes rows (and derives their listing state) on a
# shared 2-core machine, where 200 ms is noise, not a regression.
@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(-100, 12_000), min_size=1, max_size=4))
def test_nothing_is_stored_for_a_bad_split(values):
    recording = RecordingFactory()
    parties = [PartyFactory() for _ in values]
    before = SplitVersion.objects.count()
    try:
        services.split_version_create(
            recording=recording,
            shares=list(zip(parties, values, strict=True)),
            check_permission=False,
        )
    except DomainError:
        assert SplitVersion.objects.count() == before
    else:
        assert sum(values) == 10_000 and all(v > 0 for v in values)


@pytest.mark.django_db
def test_versions_are_numbered_and_old_ones_stay_readable():
    recording = RecordingFactory()
    a, b = PartyFactory(), PartyFactory()
    v1 = services.split_version_create(
        recording=recording, shares=[(a, 10_000)], check_permission=False
    )
    same = services.split_version_create(
        recording=recording, shares=[(a, 10_000)], check_permission=False
    )
    assert same == v1  # idempotent
    v2 = services.split_version_create(
        recording=recording, shares=[(a, 6000), (b, 4000)], check_permission=False
    )
    assert (v1.number, v2.number) == (1, 2)
    assert list(v1.shares.values_list("bps", flat=True)) == [10_000]


@pytest.mark.django_db
def test_publishing_split_on_work_takes_songwriters():
    work = WorkFactory()
    writer = PartyFactory(kind="songwriter")
    version = services.split_version_create(
        work=work, shares=[(writer, 10_000)], check_permission=False
    )
    assert version.side == "publishing"
    with pytest.raises(DomainError):
        services.split_version_create(
            work=work, shares=[(PartyFactory(), 10_000)], check_permission=False
        )


@pytest.mark.django_db
def test_split_permission():
    user, party = artist_user()
    other, _ = artist_user("Other")
    recording = RecordingFactory()
    credit(recording, party)
    with pytest.raises(PermissionDenied):
        services.split_version_create(recording=recording, shares=[(party, 10_000)], actor=other)
    assert services.split_version_create(recording=recording, shares=[(party, 10_000)], actor=user)


@pytest.mark.django_db
def test_database_refuses_bad_bps_and_duplicate_party():
    recording = RecordingFactory()
    party = PartyFactory()
    version = services.split_version_create(
        recording=recording, shares=[(party, 10_000)], check_permission=False
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SplitShare.objects.create(version=version, party=PartyFactory(), bps=-5)
    with pytest.raises(IntegrityError), transaction.atomic():
        SplitShare.objects.create(version=version, party=party, bps=5)


@pytest.mark.django_db
def test_split_rows_are_immutable_in_the_database():
    recording = RecordingFactory()
    version = services.split_version_create(
        recording=recording, shares=[(PartyFactory(), 10_000)], check_permission=False
    )
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 — backend-specific error
        SplitShare.objects.filter(version=version).update(bps=1)
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017
        SplitVersion.objects.filter(pk=version.pk).delete()


@pytest.mark.django_db
def test_postgres_refuses_a_split_version_not_summing_to_whole():
    if connection.vendor != "postgresql":
        pytest.skip("deferred constraint trigger is PostgreSQL-only")
    recording = RecordingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        version = SplitVersion.objects.create(
            side="master", recording=recording, number=1, effective_from="2024-01-01T00:00Z"
        )
        SplitShare.objects.create(version=version, party=PartyFactory(), bps=4000)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
