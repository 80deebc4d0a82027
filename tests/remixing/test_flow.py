"""Services, jobs and the real Demucs code path (demucs_unittest), run inline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from mutagen import File as MutagenFile

from catalog.services.consent import consent_revoke
from core.errors import DomainError, NotFound
from remixing import audio, job_runner
from remixing.models import Remix, RemixEvent, RemixNotice, StemSet
from remixing.services import (
    remix_create,
    remix_publish,
    remix_render_start,
    remix_unpublish,
    remix_update_recipe,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    from config.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def ready_remix(make_recording, fan, eager, django_capture_on_commit_callbacks):
    """A paid remix rendered end to end (separation -> render), inline."""
    recording, artist = make_recording(official_stems=True)
    with django_capture_on_commit_callbacks(execute=True):
        remix = remix_create(fan=fan, recording=recording, preset="chill")
    with django_capture_on_commit_callbacks(execute=True):
        remix_render_start(remix=remix)
    remix.refresh_from_db()
    return remix, recording, artist


def test_create_refuses_non_remixable_track(make_recording, fan):
    recording, _ = make_recording(remixable=False)
    with pytest.raises(DomainError) as error:
        remix_create(fan=fan, recording=recording)
    assert error.value.code == "not_remixable"
    assert "recording" in error.value.fields
    assert not Remix.objects.exists()


def test_create_records_what_it_relies_on(make_recording, fan, django_capture_on_commit_callbacks):
    recording, _ = make_recording()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        remix = remix_create(fan=fan, recording=recording)
    assert remix.status == Remix.Status.DRAFT
    assert remix.consent_events.count() == 1
    assert remix.master_split_version.recording_id == recording.pk
    assert remix.publishing_split_version.work_id == recording.work_id
    assert remix.stem_set.status == StemSet.Status.PENDING
    assert remix.stem_set.model_name == settings.DEMUCS_MODEL
    assert len(callbacks) == 1  # separation queued only after commit
    event = remix.events.get()
    assert event.to_status == "draft" and event.actor == fan
    relied_on = list(remix.consent_events.values_list("pk", flat=True))
    assert event.data["consent_event_ids"] == relied_on


def test_forbidden_transformation_names_the_field(make_recording, fan):
    recording, _ = make_recording(terms={"tempo": False, "vocals_removed": False})
    with pytest.raises(DomainError) as error:
        remix_create(fan=fan, recording=recording, recipe={"version": 1, "tempo_ratio": 1.2})
    assert error.value.code == "forbidden_transformation"
    assert "recipe.tempo_ratio" in error.value.fields
    with pytest.raises(DomainError) as error:
        remix_create(fan=fan, recording=recording, preset="instrumental")
    assert "recipe.stems.vocals" in error.value.fields


def test_recipe_autosave_is_versioned_and_owner_only(make_recording, fan, other_fan):
    recording, _ = make_recording()
    remix = remix_create(fan=fan, recording=recording)
    remix = remix_update_recipe(remix=remix, fan=fan, recipe={"version": 1, "tempo_ratio": 1.1})
    assert remix.recipe_version == 2 and remix.recipe["tempo_ratio"] == 1.1
    # Saving the same recipe again is not a new version.
    remix = remix_update_recipe(remix=remix, fan=fan, recipe={"version": 1, "tempo_ratio": 1.1})
    assert remix.recipe_version == 2
    with pytest.raises(DomainError) as error:
        remix_update_recipe(remix=remix, fan=fan, recipe={"version": 1}, expected_version=1)
    assert error.value.status_code == 409
    with pytest.raises(NotFound):
        remix_update_recipe(remix=remix, fan=other_fan, recipe={"version": 1})


def test_render_produces_tagged_files(ready_remix):
    remix, recording, _ = ready_remix
    assert remix.status == Remix.Status.READY, remix.error
    assert remix.progress == 100 and remix.attempts == 1
    mp3 = Path(remix.output_mp3.path)
    ogg = Path(remix.output_ogg.path)
    assert mp3.is_file() and ogg.is_file()
    assert mp3.name == f"remix-{remix.pk}.mp3"  # deterministic: a retry overwrites
    assert remix.integrated_lufs is not None and remix.true_peak_dbtp <= -0.9
    text = " ".join(str(v) for v in MutagenFile(mp3).tags.values())
    assert recording.title in text and recording.artist_party.name in text
    assert "Writer" in text  # the songwriter is credited in the file
    assert recording.isrc in text
    ogg_text = " ".join(" ".join(v) for _k, v in MutagenFile(ogg).tags.as_dict().items())
    assert recording.title in ogg_text and recording.artist_party.name in ogg_text
    story = list(remix.events.values_list("to_status", flat=True))
    assert story == ["draft", "queued", "rendering", "ready"]
    assert remix.stem_set.model_name == "official"


def test_demucs_separation_and_stem_cache(
    make_recording, fan, eager, django_capture_on_commit_callbacks
):
    """The real Demucs code path (demucs_unittest); the second remix runs no model."""
    recording, _ = make_recording(seconds=3.0)
    with django_capture_on_commit_callbacks(execute=True):
        first = remix_create(fan=fan, recording=recording, preset="chill")
    stem_set = StemSet.objects.get()
    assert stem_set.status == StemSet.Status.READY, stem_set.error
    assert stem_set.model_name == "demucs_unittest" and stem_set.device == "cpu"
    assert stem_set.progress == 100 and stem_set.attempts == 1
    assert sorted(stem_set.stems.values_list("name", flat=True)) == [
        "bass",
        "drums",
        "other",
        "vocals",
    ]
    for stem in stem_set.stems.all():
        assert stem.lossless.name.endswith(".flac") and stem.preview.name.endswith(".opus")
        assert stem.preview_mp3.name.endswith(".mp3") and stem.has_light_streams
        assert Path(stem.preview.path).stat().st_size > 0
        assert abs(stem.duration_s - 3.0) < 0.05
    separations = audio.STATS["separations"]
    with django_capture_on_commit_callbacks(execute=True):
        second = remix_create(fan=fan, recording=recording, preset="workout")
    with django_capture_on_commit_callbacks(execute=True):
        remix_render_start(remix=second)
    second.refresh_from_db()
    assert second.status == Remix.Status.READY, second.error
    assert first.stem_set_id == second.stem_set_id == stem_set.pk
    assert StemSet.objects.count() == 1
    assert audio.STATS["separations"] == separations
    # Asking again for a ready set queues nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        remix_create(fan=fan, recording=recording)
    assert callbacks == []


def test_redelivered_render_does_not_render_twice(ready_remix):
    remix, _, _ = ready_remix
    renders = audio.STATS["renders"]
    assert job_runner.render_execute(remix.pk) == "skipped"
    assert audio.STATS["renders"] == renders
    assert remix.events.filter(to_status="ready").count() == 1


def test_publish_rules_and_unpublish(ready_remix, fan, other_fan):
    remix, _, _ = ready_remix
    with pytest.raises(NotFound):
        remix_publish(remix=remix, fan=other_fan, title="Mine now")
    with pytest.raises(DomainError) as error:
        remix_publish(remix=remix, fan=fan, title="  ")
    assert "title" in error.value.fields
    remix = remix_publish(remix=remix, fan=fan, title="Sunset edit", description="hi")
    assert remix.status == Remix.Status.PUBLISHED and remix.published_at
    remix = remix_unpublish(remix=remix, actor=fan)
    assert remix.status == Remix.Status.READY
    assert not RemixNotice.objects.filter(kind="unpublished").exists()


def test_publish_refused_when_terms_forbid(
    make_recording, fan, eager, django_capture_on_commit_callbacks
):
    recording, _ = make_recording(terms={"publication": False}, official_stems=True)
    with django_capture_on_commit_callbacks(execute=True):
        remix = remix_create(fan=fan, recording=recording)
    with django_capture_on_commit_callbacks(execute=True):
        remix_render_start(remix=remix)
    remix.refresh_from_db()
    with pytest.raises(DomainError) as error:
        remix_publish(remix=remix, fan=fan, title="Nope")
    assert error.value.code == "publication_not_allowed" and error.value.status_code == 409


def test_draft_cannot_be_published(make_recording, fan):
    recording, _ = make_recording()
    remix = remix_create(fan=fan, recording=recording)
    with pytest.raises(DomainError) as error:
        remix_publish(remix=remix, fan=fan, title="Too soon")
    assert error.value.code == "not_ready"


@pytest.mark.parametrize("unpublish", [True, False])
def test_revocation_cancels_queued_and_unpublishes_per_terms(
    unpublish, ready_remix, fan, django_capture_on_commit_callbacks
):
    remix, recording, artist = ready_remix
    remix_publish(remix=remix, fan=fan, title="Live")
    queued = remix_create(fan=fan, recording=recording)
    with django_capture_on_commit_callbacks(execute=False):
        remix_render_start(remix=queued)  # queued; its task never ran
    if not unpublish:
        from catalog.services.consent import consent_terms_change

        consent_terms_change(
            party=recording.artist_party,
            actor=artist,
            terms={**remix.terms, "unpublish_on_revoke": False},
        )
    with django_capture_on_commit_callbacks(execute=True):
        event = consent_revoke(party=recording.artist_party, actor=artist, reason="changed mind")
    queued.refresh_from_db()
    remix.refresh_from_db()
    assert queued.status == Remix.Status.CANCELLED
    cancel = queued.events.get(to_status="cancelled")
    assert cancel.actor_kind == RemixEvent.Actor.CATALOG and cancel.consent_event_id == event.pk
    assert RemixNotice.objects.filter(remix=queued, kind="cancelled", fan=fan).exists()
    if unpublish:
        assert remix.status == Remix.Status.READY and remix.unpublished_at
        assert RemixNotice.objects.filter(remix=remix, kind="unpublished").exists()
        assert remix.events.filter(consent_event_id=event.pk, to_status="ready").exists()
    else:
        assert remix.status == Remix.Status.PUBLISHED
    # The task, delivered late, does nothing.
    assert job_runner.render_execute(queued.pk) == "skipped"


def test_a_re_grant_tells_fans_they_can_publish_again(
    ready_remix, fan, django_capture_on_commit_callbacks
):
    # Found: when an artist re-granted consent, fans whose remixes had been
    # unpublished were never told they could publish again.
    from catalog.services.consent import consent_grant

    remix, recording, artist = ready_remix
    remix_publish(remix=remix, fan=fan, title="Live")
    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(party=recording.artist_party, actor=artist, reason="changed mind")
    with django_capture_on_commit_callbacks(execute=True):
        consent_grant(party=recording.artist_party, actor=artist, reason="back in")
    (notice,) = RemixNotice.objects.filter(remix=remix, fan=fan, kind="republish")
    assert f"“{recording.title}” is open for remixes again" in notice.message
    with django_capture_on_commit_callbacks(execute=True):
        consent_grant(party=recording.artist_party, actor=artist, reason="again")
    assert RemixNotice.objects.filter(remix=remix, kind="republish").count() == 1  # told once


def test_task_for_no_longer_remixable_track_ends_cancelled(
    make_recording, fan, django_capture_on_commit_callbacks
):
    recording, artist = make_recording()
    remix = remix_create(fan=fan, recording=recording)
    with django_capture_on_commit_callbacks(execute=False):
        remix_render_start(remix=remix)
        # Revoked, but the signal receivers never ran (e.g. they were down).
        consent_revoke(party=recording.artist_party, actor=artist)
    assert job_runner.render_execute(remix.pk) == "cancelled"
    remix.refresh_from_db()
    assert remix.status == Remix.Status.CANCELLED
    assert "no longer be remixed" in remix.error
    # The separation job of a non-remixable track is cancelled too.
    assert job_runner.stemset_execute(remix.stem_set_id) == "cancelled"
    remix.stem_set.refresh_from_db()
    assert remix.stem_set.status == StemSet.Status.CANCELLED
    assert job_runner.render_execute(987654) == "missing"


def test_corrupt_stem_fails_with_message_and_no_output(
    ready_remix, fan, django_capture_on_commit_callbacks
):
    remix, recording, _ = ready_remix
    stem = remix.stem_set.stems.get(name="drums")
    Path(stem.lossless.path).write_bytes(b"this is not a flac file at all")
    second = remix_create(fan=fan, recording=recording)
    with django_capture_on_commit_callbacks(execute=False):
        remix_render_start(remix=second)
    assert job_runner.render_execute(second.pk) == "failed"
    second.refresh_from_db()
    assert second.status == Remix.Status.FAILED
    # Staff read the technical detail; the fan reads plain words.
    assert "drums" in second.error_detail or "decode" in second.error_detail, second.error_detail
    assert second.error == job_runner.REMIX_BAD_INPUT
    assert not second.output_mp3 and not second.output_ogg
    out_dir = Path(settings.MEDIA_ROOT) / "remixing" / "remixes" / str(second.pk)
    assert not out_dir.exists() or not any(out_dir.iterdir())
    assert RemixNotice.objects.filter(remix=second, kind="failed").exists()


def test_separate_tracks_command(make_recording, capsys):
    recording, _ = make_recording(seconds=2.0)
    skipped, _ = make_recording(remixable=False, seconds=2.0, official_stems=True)
    call_command("separate_tracks", str(recording.pk), str(skipped.pk), "--device", "cpu")
    out = capsys.readouterr().out
    assert "ready: 1, skipped: 1, failed: 0" in out
    stem_set = StemSet.objects.get()
    assert stem_set.status == "ready" and stem_set.device == "cpu"
    assert stem_set.stems.count() == 4


def test_official_stems_win_over_separation(
    make_recording, fan, eager, django_capture_on_commit_callbacks
):
    recording, _ = make_recording(official_stems=True)
    separations = audio.STATS["separations"]
    with django_capture_on_commit_callbacks(execute=True):
        remix = remix_create(fan=fan, recording=recording)
    remix.stem_set.refresh_from_db()
    assert remix.stem_set.model_name == "official"
    assert remix.stem_set.status == "ready"
    assert remix.stem_set.stems.count() == 4
    assert audio.STATS["separations"] == separations
    assert os.path.getsize(remix.stem_set.stems.first().lossless.path) > 0
