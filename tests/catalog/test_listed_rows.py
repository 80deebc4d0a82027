"""`recording_list_rows`: what lists show of each track, read in one query
(raw SQL, so its conversions are checked here on whichever database runs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Recording
from catalog.selectors import recording_list_rows
from tests.catalog.factories import PartyFactory, RecordingFactory, credit, remixable_recording

pytestmark = pytest.mark.django_db


def test_rows_carry_credits_in_order_and_the_stored_verdict():
    ok, nova, _ = remixable_recording("Nova", title="Alpha")
    credit(ok, PartyFactory(name="Zed"), role="featured", order=2)
    credit(ok, PartyFactory(name="Kite"), role="featured", order=1)
    bare = RecordingFactory(
        title="Bare", mood=["dark", "chill"], tempo_bpm=None, duration_ms=61_400
    )
    with CaptureQueriesContext(connection) as queries:
        rows = recording_list_rows([bare.pk, 999_999, ok.pk, bare.pk])
    assert len(queries) == 1
    assert [row.id for row in rows] == [bare.pk, ok.pk, bare.pk]  # order of ids, unknown left out
    alpha = rows[1]
    assert [(a.name, a.role) for a in alpha.artists] == [
        ("Nova", "main"),
        ("Kite", "featured"),
        ("Zed", "featured"),
    ]
    assert alpha.artists[0].party_id == nova.pk
    assert alpha.verdict.remixable is True
    assert rows[0].artists == [] and rows[0].mood == ["dark", "chill"]
    assert rows[0].tempo_bpm is None and rows[0].duration_display == "1:01"
    assert rows[0].verdict.remixable is False
    assert "no_main_artist" in [reason.code for reason in rows[0].verdict.reasons]


def test_a_row_due_for_its_recheck_is_not_listed_as_remixable():
    ok, _, _ = remixable_recording("Nova", title="Alpha")
    Recording.objects.filter(pk=ok.pk).update(
        remixability_due_at=timezone.now() - timedelta(seconds=1)
    )
    (row,) = recording_list_rows([ok.pk])
    assert row.verdict.remixable is False
    assert row.verdict.why_not == "Its rights are being re-checked."
    Recording.objects.filter(pk=ok.pk).update(
        remixability_due_at=timezone.now() + timedelta(hours=1)
    )
    assert recording_list_rows([ok.pk])[0].verdict.remixable is True


def test_no_ids_no_query():
    with CaptureQueriesContext(connection) as queries:
        assert recording_list_rows([]) == []
    assert len(queries) == 0
