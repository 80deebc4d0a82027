"""Beats, bars and sections found once per stem set, stored with the stems, offered to
the studio; an arrangement in a draft's recipe is held to the artist's terms."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import soundfile
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from catalog.models import OfficialStem
from remixing import job_runner
from remixing.engine.synth import synth_track
from remixing.models import Remix, StemSetStructure
from remixing.services import stemset_for_recording
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db

SR = 44100
BPM = 120  # one bar of 4/4 every 2.0 s


def _flac(audio: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, audio.T, SR, format="FLAC")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def stem_flacs() -> dict[str, bytes]:
    """The four official stems as FLAC, synthesised once for the module (pure audio)."""
    stems = synth_track(seed=5, bpm=BPM, key="A minor", duration_s=20.0, samplerate=SR)
    return {name: _flac(stems[name]) for name in ("drums", "bass", "other", "vocals")}


@pytest.fixture
def analysed(make_recording, django_capture_on_commit_callbacks, stem_flacs):
    recording, _ = make_recording(seconds=20.0)
    for name, flac in stem_flacs.items():
        OfficialStem.objects.create(
            recording=recording,
            name=name,
            file=ContentFile(flac, name=f"{name}.flac"),
            sha256=f"{name:0>64}"[-64:],
        )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        stem_set = stemset_for_recording(recording=recording)
        assert job_runner.stemset_execute(stem_set.pk) == "ready"
    # Finishing the stems queued the analysis (once, after commit).
    assert len(queued) >= 1
    assert job_runner.stemset_structure_run(stem_set.pk) == "ready"
    assert job_runner.stemset_structure_run(stem_set.pk) == "exists"
    return recording, stem_set


def test_structure_is_found_once_and_stored_with_the_stems(analysed):
    _, stem_set = analysed
    found = StemSetStructure.objects.get(stem_set=stem_set).data
    assert found["version"] == 1 and found["meter"] == "4/4 (assumed)"
    assert found["tempo_bpm"] == pytest.approx(BPM, rel=0.05)
    bars = np.diff(found["bars_s"])
    assert len(bars) >= 5 and np.median(bars) == pytest.approx(2.0, abs=0.06)
    sections = found["sections"]
    assert sections[0]["start_s"] == 0.0 and sections[-1]["end_s"] == pytest.approx(20.0)
    for before, after in itertools.pairwise(sections):
        assert before["end_s"] == after["start_s"]  # contiguous
        assert min(abs(after["start_s"] - b) for b in found["bars_s"]) < 1e-6  # on a bar


def test_studio_gets_the_structure_and_terms_hold_the_arrangement(analysed, fan):
    recording, _stem_set = analysed
    entitle(fan)
    client = APIClient()
    client.force_authenticate(fan)
    created = client.post("/api/v1/remixes/", {"recording_id": recording.pk}, format="json")
    remix = Remix.objects.get(pk=created.json()["id"])
    body = client.get(f"/api/v1/remixes/{remix.pk}/stems/").json()
    bars = body["structure"]["bars_s"]
    assert body["structure"]["sections"]
    arrangement = {
        "version": 1,
        "sections": [{"start_s": bars[2], "end_s": bars[4]}, {"start_s": 0, "end_s": bars[1]}],
    }
    # The catalog's terms carry no "arrangement" permission yet: fail closed.
    response = client.put(
        f"/api/v1/remixes/{remix.pk}/recipe/",
        {"recipe": {"version": 1, "arrangement": arrangement}},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "forbidden_transformation"
    assert list(response.json()["error"]["fields"]) == ["recipe.arrangement"]
    # Off the bars: named as such.
    off = {"version": 1, "sections": [{"start_s": bars[2] + 0.3, "end_s": bars[4]}]}
    response = client.put(
        f"/api/v1/remixes/{remix.pk}/recipe/",
        {"recipe": {"version": 1, "arrangement": off}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["recipe.arrangement.sections.0"] == [
        "must start and end on a bar"
    ]
