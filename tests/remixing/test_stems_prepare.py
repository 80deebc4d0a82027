"""Stems ready before the fan arrives: upload -> remixable -> stems, with no network.

The separation runs the embedded backend (no weights), inline through the real tasks.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Party, Work, WorkWriter
from catalog.services.consent import consent_grant, consent_revoke
from catalog.services.recordings import recording_upload
from catalog.services.splits import split_version_create
from catalog.terms import DEFAULT_CONSENT_TERMS
from remixing import audio, job_runner
from remixing.models import EMBEDDED_MODEL, StemSet
from remixing.receivers import on_may_have_become_remixable
from remixing.services import remix_create, stemsets_prepare
from tests.fixtures.accounts import UserFactory

from .conftest import tone_mix, wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    from config.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open an internet connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    original = socket.socket.connect

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            refuse()
        return original(self, address)

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def embedded(settings, tmp_path):
    # The demo's situation: htdemucs configured, no weights installed.
    settings.SEPARATION_BACKEND = "auto"
    settings.DEMUCS_MODEL = "htdemucs"
    settings.DEMUCS_MODEL_REPO = str(tmp_path / "no-weights")


def _artist():
    user = UserFactory(is_artist=True, is_fan=False, display_name="Nova")
    party = Party.objects.create(kind="artist", name="Nova", user=user, claim_verified=True)
    return user, party


def _upload(user, party):
    wav = wav_bytes(tone_mix(3.0, seed=5))
    return recording_upload(
        uploader=user,
        audio=SimpleUploadedFile("song.wav", wav, content_type="audio/wav"),
        title="Fresh Upload",
        main_artists=[party],
        work_title="Fresh Upload",
    ).recording


def test_upload_consent_and_splits_make_stems_without_network(
    embedded, eager, no_network, django_capture_on_commit_callbacks
):
    user, party = _artist()
    writer = Party.objects.create(kind="songwriter", name="Writer")
    with django_capture_on_commit_callbacks(execute=True):
        consent_grant(party=party, actor=user, terms=dict(DEFAULT_CONSENT_TERMS))  # catalog-wide
    with django_capture_on_commit_callbacks(execute=True):
        recording = _upload(user, party)
    assert not StemSet.objects.exists()  # not remixable yet: no splits, no processing
    WorkWriter.objects.create(work=recording.work, party=writer)
    separations = audio.STATS["separations"]
    with django_capture_on_commit_callbacks(execute=True):
        split_version_create(recording=recording, shares=[(party, 10_000)], check_permission=False)
    with django_capture_on_commit_callbacks(execute=True):
        split_version_create(
            work=Work.objects.get(pk=recording.work_id),
            shares=[(writer, 10_000)],
            check_permission=False,
        )
    stem_set = StemSet.objects.get(recording=recording)
    assert stem_set.status == StemSet.Status.READY, stem_set.error
    assert (stem_set.backend, stem_set.model_name) == ("embedded", EMBEDDED_MODEL)
    assert "embedded separator" in stem_set.source_label
    assert audio.STATS["separations"] == separations + 1
    stems = {stem.name: stem for stem in stem_set.stems.all()}
    assert sorted(stems) == ["bass", "drums", "other", "vocals"]
    data, _ = audio.load(stems["drums"].lossless.path)
    assert float(np.sqrt(np.mean(data**2))) > 1e-3  # audible, not an untrained model's hush
    # The fan's studio finds the stems ready: nothing waits, nothing runs again.
    fan = UserFactory(is_fan=True)
    with django_capture_on_commit_callbacks(execute=True):
        remix = remix_create(fan=fan, recording=recording)
    assert remix.stem_set_id == stem_set.pk and remix.stem_set.is_ready
    assert audio.STATS["separations"] == separations + 1
    assert "embedded separator" in job_runner.remix_file_tags(remix)["stems_source"]


def test_a_grant_for_one_recording_queues_it(make_recording, eager, embedded):
    recording, artist = make_recording(remixable=False)
    assert stemsets_prepare(recording_ids=[recording.pk]) == {
        "queued": 0,
        "ready": 0,
        "skipped": 1,
    }
    consent_grant(
        party=recording.artist_party,
        actor=artist,
        recording=recording,
        terms=dict(DEFAULT_CONSENT_TERMS),
    )
    counts = stemsets_prepare(recording_ids=[recording.pk, recording.pk])
    assert counts["skipped"] == 0 and counts["queued"] + counts["ready"] == 1
    assert StemSet.objects.get(recording=recording).backend == "embedded"


def test_revocation_does_not_prepare_stems(make_recording, django_capture_on_commit_callbacks):
    recording, artist = make_recording()
    StemSet.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consent_revoke(party=recording.artist_party, actor=artist, reason="No more remixes.")
    for callback in callbacks:
        callback()  # the receivers run; none may queue stems for a revoked track
    assert not StemSet.objects.exists()


def test_official_stems_record_their_source(make_recording, embedded):
    recording, _ = make_recording(official_stems=True)
    stemsets_prepare(recording_ids=[recording.pk])
    stem_set = StemSet.objects.get(recording=recording)
    assert (stem_set.backend, stem_set.model_name) == ("official", "official")
    assert stem_set.source_label.startswith("Official stems")


def test_preparing_ahead_can_be_turned_off(make_recording, settings, eager):
    settings.SEPARATION_PREPARE_AHEAD = False
    recording, _ = make_recording()
    StemSet.objects.all().delete()
    on_may_have_become_remixable(None, recording_ids=[recording.pk], kind="grant")
    assert not StemSet.objects.exists()
