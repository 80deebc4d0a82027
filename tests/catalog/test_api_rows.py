"""The track list's rows, written directly for speed, are what TrackSerializer
(the schema) says: the same JSON for remixable tracks and for tracks whose
reasons come from the rule."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from rest_framework.renderers import JSONRenderer

from catalog.api_serializers import TrackSerializer
from catalog.models import Recording
from catalog.selectors import recording_queryset_with_credits, recording_remixability_listed
from tests.catalog.factories import PartyFactory, RecordingFactory, credit, remixable_recording

pytestmark = pytest.mark.django_db


def test_list_rows_equal_the_serializer(client, settings):
    settings.CATALOG_LIST_CACHE_SECONDS = 30
    cache.clear()
    ok, _, _ = remixable_recording("Nova", title="Alpha", isrc="USRC17607839")
    credit(ok, PartyFactory(name="Kite"), role="featured", order=1)
    blocked = RecordingFactory(title="Beta", mood=["dark", "chill"], tempo_bpm=None)
    credit(blocked, PartyFactory(name="Nobody"))
    recordings = list(recording_queryset_with_credits().order_by("title", "id"))
    context = {"remixability": recording_remixability_listed(recordings)}
    expected = TrackSerializer(recordings, many=True, context=context).data
    for _ in range(2):  # drawn, then read back from the cache
        body = client.get("/api/v1/tracks/?include_unremixable=true").json()
        assert body["results"] == json.loads(JSONRenderer().render(expected))
    beta = body["results"][1]
    assert beta["remixable"] is False and beta["reasons"][0]["party_id"] is not None
    assert beta["mood"] == ["dark", "chill"] and beta["isrc"] is None
    assert Recording.objects.count() == 2
