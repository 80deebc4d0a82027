"""The stored listing state (remixability and search text) stays equal to the
rule through every write path, the check that recomputes it catches drift,
and search finds titles, artists, songwriters and identifiers."""

import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from catalog import services
from catalog.models import ConsentState, Recording
from catalog.selectors import (
    consent_state_mismatches,
    recording_list_remixable,
    recording_list_remixable_sql,
    recording_remixability_map,
    recording_remixability_state_mismatches,
    recording_search_may_retry,
)
from core.errors import DomainError

from .factories import PartyFactory, artist_user, staff_user

pytestmark = pytest.mark.django_db


def _assert_state_is_the_rule():
    assert recording_remixability_state_mismatches() == []
    recordings = list(Recording.objects.all())
    verdicts = recording_remixability_map(recordings)
    twin = dict(recording_list_remixable_sql().values_list("pk", "remixable"))
    for recording in recordings:
        assert recording.is_remixable is verdicts[recording.pk].remixable is twin[recording.pk]
    listed = set(recording_list_remixable().values_list("pk", flat=True))
    assert listed == {r.pk for r in recordings if r.is_remixable}


class Catalog:
    """Three artists, two songwriters, five recordings made by the service
    (some sharing a work, one with two main artists, one with no work)."""

    def __init__(self):
        self.artists = [artist_user(f"Artist {n}") for n in range(3)]
        self.writers = [PartyFactory(kind="songwriter", name=f"Writer {n}") for n in range(2)]
        self.label = PartyFactory(kind="label", name="Label")
        self.staff = staff_user()
        shared = services.work_create(title="Shared Song", writers=[(self.writers[0], "composer")])
        parties = [party for _, party in self.artists]
        self.recordings = [
            services.recording_create(title="One", main_artists=[parties[0]], work=shared),
            services.recording_create(title="Two", main_artists=parties[:2], work=shared),
            services.recording_create(
                title="Three",
                main_artists=[parties[1]],
                featured_artists=[parties[2]],
                work=services.work_create(title="Third Song"),
            ),
            services.recording_create(title="Four", main_artists=[parties[2]]),
            services.recording_create(
                title="Five", main_artists=[parties[2]], work=services.work_create(title="Fifth")
            ),
        ]

    def step(self, rng: random.Random) -> str:
        recording = rng.choice(self.recordings)
        user, party = rng.choice(self.artists)
        scope = rng.choice([None, recording])
        action = rng.choice(
            ["grant", "revoke", "terms", "master", "publishing", "future", "takedown"]
        )
        on_recording = recording.artists.filter(party=party, role="main").exists()
        if action in ("grant", "revoke", "terms") and (scope is None or on_recording):
            try:
                if action == "grant":
                    services.consent_grant(party=party, actor=user, recording=scope)
                elif action == "revoke":
                    services.consent_revoke(party=party, actor=user, recording=scope)
                else:
                    terms = {"tempo": rng.random() < 0.5}
                    services.consent_terms_change(
                        party=party, actor=user, recording=scope, terms=terms
                    )
            except DomainError:
                pass  # terms change where nothing is granted: refused, nothing written
        elif action == "master":
            shares = [(self.label, 10_000)] if rng.random() < 0.5 else [(party, 10_000)]
            services.split_version_create(
                recording=recording, shares=shares, check_permission=False
            )
        elif action == "publishing" and recording.work_id:
            writer = rng.choice(self.writers)
            services.split_version_create(
                work=recording.work, shares=[(writer, 10_000)], check_permission=False
            )
        elif action == "future":
            services.split_version_create(
                recording=recording,
                shares=[(self.label, 10_000)],
                effective_from=timezone.now() + timezone.timedelta(days=1),
                check_permission=False,
            )
        elif action == "takedown":
            if recording.takedowns.filter(lifted_event__isnull=True).exists():
                services.takedown_lift(recording=recording, actor=self.staff, reason="ok")
            else:
                services.takedown_place(recording=recording, actor=self.staff, reason="claim")
        return action


def test_every_write_path_keeps_the_stored_state_equal_to_the_rule():
    catalog = Catalog()
    _assert_state_is_the_rule()
    rng = random.Random(13)
    seen = set()
    for _ in range(70):
        seen.add(catalog.step(rng))
        _assert_state_is_the_rule()
    assert seen == {"grant", "revoke", "terms", "master", "publishing", "future", "takedown"}
    assert Recording.objects.filter(is_remixable=True).exists()
    assert consent_state_mismatches() == []


def test_verify_remixability_finds_drift_and_repairs_it(capsys):
    catalog = Catalog()
    one = catalog.recordings[0]
    call_command("verify_remixability")
    Recording.objects.filter(pk=one.pk).update(is_remixable=True, remixability_reasons="")
    with pytest.raises(CommandError) as failure:
        call_command("verify_remixability")
    assert failure.value.returncode == 1
    assert f"recording {one.pk}" in capsys.readouterr().err
    call_command("verify_remixability", "--repair")
    assert recording_remixability_state_mismatches() == []


def test_consent_state_is_checked_against_the_ledger():
    user, party = artist_user("Replay")
    services.consent_grant(party=party, actor=user)
    assert consent_state_mismatches() == []
    ConsentState.objects.filter(party=party).update(status="revoked")
    assert consent_state_mismatches()


@pytest.fixture
def searchable():
    writer = PartyFactory(kind="songwriter", name="June Okafor")
    _, nova = artist_user("Nova Lane")
    _, kite = artist_user("Kite Runner")
    work = services.work_create(
        title="Harbour Lights", iswc="T-034.524.680-1", writers=[(writer, "composer")]
    )
    blue = services.recording_create(
        title="Blue Hour", main_artists=[nova], work=work, isrc="US-RC1-76-07839"
    )
    red = services.recording_create(title="Red Sky at Night", main_artists=[kite])
    return {"blue": blue, "red": red}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("blue", {"blue"}),
        ("BLUE hour", {"blue"}),
        ("nova", {"blue"}),
        ("okafor", {"blue"}),
        ("harbour", {"blue"}),
        ("USRC17607839", {"blue"}),
        ("us-rc1-76-07839", {"blue"}),
        ("T-034.524.680-1", {"blue"}),
        ("sky night", {"red"}),
        ("runner", {"red"}),
        ("zzz", set()),
    ],
)
def test_search_finds_titles_artists_songwriters_and_identifiers(searchable, q, expected):
    found = set(recording_list_remixable(q=q, remixable_only=False).values_list("pk", flat=True))
    assert found == {searchable[name].pk for name in expected}


def test_postgres_search_forgives_word_order_and_typos(searchable):
    if connection.vendor != "postgresql":
        pytest.skip("full-text and trigram search are PostgreSQL's")
    found = recording_list_remixable(q="night red", remixable_only=False)
    assert list(found.values_list("pk", flat=True)) == [searchable["red"].pk]
    assert not recording_list_remixable(q="okafr", remixable_only=False).exists()
    typo = recording_list_remixable(q="okafr", remixable_only=False, typos=True)
    assert list(typo.values_list("pk", flat=True)) == [searchable["blue"].pk]
    # The API and the browse page retry with typos forgiven when nothing matched.
    body = Client().get("/api/v1/tracks/?q=okafr&include_unremixable=true").json()
    assert [t["id"] for t in body["results"]] == [searchable["blue"].pk]
    assert "Blue Hour" in Client().get("/tracks/?q=okafr&show_all=on").content.decode()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("blu", {"blue"}),  # a word as it is being typed
        ("hour blu", {"blue"}),
        ("nig sk", {"red"}),
        ("night & | ! :* (", {"red"} if connection.vendor == "postgresql" else set()),
        ("hour qqqq", set()),
        ("'", set()),
    ],
)
def test_search_matches_words_as_they_are_typed(searchable, q, expected):
    """Through the API, which retries a search that found nothing with every
    word as a prefix (PostgreSQL; SQLite matches substrings at once).
    tsquery syntax is only text (SQLite: every word a substring)."""
    body = Client().get("/api/v1/tracks/", {"q": q, "include_unremixable": "true"}).json()
    assert {row["id"] for row in body["results"]} == {searchable[name].pk for name in expected}


def test_complete_words_need_no_second_try(searchable):
    if connection.vendor != "postgresql":
        pytest.skip("the forgiving second try is PostgreSQL's")
    assert not recording_search_may_retry("") and not recording_search_may_retry("' -")
    first = recording_list_remixable(q="hour blue", remixable_only=False)
    assert list(first.values_list("pk", flat=True)) == [searchable["blue"].pk]
    assert not recording_list_remixable(q="hour blu", remixable_only=False).exists()
    forgiving = recording_list_remixable(q="hour blu", remixable_only=False, typos=True)
    assert list(forgiving.values_list("pk", flat=True)) == [searchable["blue"].pk]


def test_a_writer_added_later_is_found(searchable):
    services.work_create(
        title="Harbour Lights",
        iswc="T-034.524.680-1",
        writers=[(PartyFactory(kind="songwriter", name="Mira Sol"), "lyricist")],
    )
    found = recording_list_remixable(q="mira sol", remixable_only=False)
    assert list(found.values_list("pk", flat=True)) == [searchable["blue"].pk]
