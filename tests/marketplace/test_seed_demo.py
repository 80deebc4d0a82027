"""seed_demo builds a living catalog, and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import ConsentEvent, OfficialStem, Party, Recording, SplitVersion
from catalog.selectors import recording_remixability
from remixing.models import StemSet

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot() -> dict:
    media = Path(settings.MEDIA_ROOT)
    return {
        "users": get_user_model().objects.count(),
        "parties": Party.objects.count(),
        "recordings": Recording.objects.count(),
        "stems": OfficialStem.objects.count(),
        "splits": SplitVersion.objects.count(),
        "consent_events": ConsentEvent.objects.count(),
        "files": sum(1 for p in media.rglob("*") if p.is_file()) if media.exists() else 0,
    }


def test_seed_demo_is_idempotent_and_mixes_remixable_and_not(capsys):
    call_command("seed_demo")
    first = snapshot()
    out = capsys.readouterr().out
    call_command("seed_demo")
    assert snapshot() == first

    assert first["recordings"] >= 6
    assert first["stems"] == 4 * first["recordings"]
    verdicts = {r.title: recording_remixability(recording=r) for r in Recording.objects.all()}
    remixable = [title for title, v in verdicts.items() if v.remixable]
    blocked = {title: v.why_not for title, v in verdicts.items() if not v.remixable}
    assert len(remixable) >= 3
    assert "Kairo Beats has not given consent" in blocked["Concrete Bloom"]
    assert "Sol has not given consent" in blocked["Sunline"]
    assert "Publishing split" in blocked["Glass Orchard"]
    for email in (
        "fan@clearmix.demo",
        "artist@clearmix.demo",
        "songwriter@clearmix.demo",
        "auditor@clearmix.demo",
    ):
        assert email in out
    durations = [r.duration_ms for r in Recording.objects.all()]
    assert all(20_000 <= d <= 40_000 for d in durations)
    assert len({(r.tempo_bpm, r.key) for r in Recording.objects.all()}) == first["recordings"]
    # Stems ready before the fan arrives: each remixable track's official import is queued
    # at seed time (the worker runs it at start), never left for the first studio open.
    stem_sets = StemSet.objects.filter(recording__title__in=remixable)
    assert sorted(stem_sets.values_list("recording__title", flat=True)) == sorted(remixable)
    assert set(stem_sets.values_list("backend", flat=True)) == {"official"}
    assert f"Stems: 0 ready, {len(remixable)} queued" in out
