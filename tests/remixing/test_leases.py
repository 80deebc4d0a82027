"""Jobs hold leases: takeover, "busy", the sweep, bounded attempts, and what
fans and staff are told when work fails. Run inline (no worker process);
the real-worker crash tests are in test_worker_crash.py."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import OfficialStem, StaffAuditEntry
from remixing import job_runner
from remixing.models import Remix, RemixNotice, StemSet
from remixing.selectors import jobs_past_lease
from remixing.services import job_records, remix_cancel, remix_create, remix_render_start
from remixing.signals import remix_undelivered
from remixing.sweep import jobs_sweep
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    from config.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def undelivered():
    """What `remix_undelivered` announced (a real receiver, like marketplace's)."""
    calls: list[dict] = []

    def receiver(sender, **kwargs):
        kwargs.pop("signal", None)
        calls.append(kwargs)

    remix_undelivered.connect(receiver, weak=False, dispatch_uid="test-undelivered")
    yield calls
    remix_undelivered.disconnect(dispatch_uid="test-undelivered")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def paid_remix(make_recording, fan, eager, django_capture_on_commit_callbacks):
    """A remix whose official stems are ready and whose render is queued (not run)."""
    recording, _ = make_recording(official_stems=True)
    with django_capture_on_commit_callbacks(execute=True):
        remix = remix_create(fan=fan, recording=recording)
    remix.stem_set.refresh_from_db()
    assert remix.stem_set.status == StemSet.Status.READY
    with django_capture_on_commit_callbacks(execute=False):
        remix_render_start(remix=remix)
    remix.refresh_from_db()
    return remix


def interrupted_at_71(remix: Remix, owner: str) -> None:
    """What a killed render leaves behind: rendering 71%, its lease still live."""
    claim = job_runner.remix_claim(remix.pk)
    assert isinstance(claim, tuple)
    Remix.objects.filter(pk=remix.pk).update(
        progress=71,
        stage="Rendering",
        lease_owner=owner,
        lease_expires_at=timezone.now() + timedelta(seconds=100),
    )


def test_redelivered_render_takes_over_from_a_dead_worker_process(
    paid_remix, django_capture_on_commit_callbacks
):
    # The pool process was SIGKILLed: its lease is young, but its pid is gone.
    interrupted_at_71(paid_remix, f"{socket.gethostname()}:{dead_pid()}")
    with django_capture_on_commit_callbacks(execute=True):
        assert job_runner.render_execute(paid_remix.pk) == "ready"
    paid_remix.refresh_from_db()
    assert paid_remix.status == Remix.Status.READY and paid_remix.attempts == 2
    assert not paid_remix.lease_owner and paid_remix.lease_expires_at is None
    story = list(paid_remix.events.values_list("to_status", flat=True))
    assert story == ["draft", "queued", "rendering", "queued", "rendering", "ready"]
    assert "interrupted" in paid_remix.events.get(to_status="queued", attempt=1).data["detail"]


def test_live_lease_elsewhere_is_busy_then_swept_and_finished(
    paid_remix, django_capture_on_commit_callbacks
):
    interrupted_at_71(paid_remix, "another-worker-host:4242")
    assert job_runner.render_execute(paid_remix.pk) == "busy"  # not "skipped": checked again later
    wait = job_runner.job_wait_seconds(model=Remix, pk=paid_remix.pk)
    assert 95 <= wait <= 102
    paid_remix.refresh_from_db()
    assert paid_remix.status == Remix.Status.RENDERING and paid_remix.progress == 71
    # That host died: its lease runs out, and the sweep re-queues the job.
    Remix.objects.filter(pk=paid_remix.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert jobs_sweep()["remixes_expired"] == 1
    paid_remix.refresh_from_db()
    assert paid_remix.status == Remix.Status.QUEUED  # not "running" past its lease
    assert paid_remix.stage == job_runner.REMIX_INTERRUPTED and not paid_remix.lease_owner
    assert len(queued) == 1
    with django_capture_on_commit_callbacks(execute=True):
        queued[0]()
    paid_remix.refresh_from_db()
    assert paid_remix.status == Remix.Status.READY and paid_remix.attempts == 2
    assert paid_remix.events.filter(to_status="ready").count() == 1


def test_attempts_are_bounded_and_the_final_failure_is_announced(
    paid_remix, undelivered, django_capture_on_commit_callbacks
):
    Remix.objects.filter(pk=paid_remix.pk).update(attempt_limit=1)
    interrupted_at_71(paid_remix, "another-worker-host:4242")
    Remix.objects.filter(pk=paid_remix.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs_sweep()
    assert undelivered == []  # only after commit
    for callback in callbacks:
        callback()
    paid_remix.refresh_from_db()
    assert paid_remix.status == Remix.Status.FAILED
    assert paid_remix.error == job_runner.REMIX_GAVE_UP.format(attempts=1)
    assert "another-worker-host:4242" in paid_remix.error_detail
    assert undelivered == [
        {"remix_id": paid_remix.pk, "status": "failed", "reason": paid_remix.error}
    ]
    notice = RemixNotice.objects.get(remix=paid_remix, kind="failed")
    assert "another-worker-host" not in notice.message  # fans get plain words


def test_transient_render_error_retries_with_backoff(
    paid_remix, django_capture_on_commit_callbacks
):
    stem = paid_remix.stem_set.stems.get(name="drums")
    Path(stem.lossless.path).rename(Path(stem.lossless.path).with_suffix(".away"))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert job_runner.render_execute(paid_remix.pk) == "retrying"
    paid_remix.refresh_from_db()
    assert paid_remix.status == Remix.Status.QUEUED and not paid_remix.lease_owner
    assert paid_remix.queued_at > timezone.now() + timedelta(seconds=50)
    assert "FileNotFoundError" in paid_remix.error_detail
    assert "try again automatically" in paid_remix.stage
    assert len(queued) == 1
    # Delivered early (a duplicate): the backoff is not due, nothing runs.
    assert job_runner.render_execute(paid_remix.pk) == "busy"


def test_remix_cancel_announces_after_commit(
    paid_remix, undelivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert remix_cancel(remix=paid_remix, reason="The artist withdrew consent.")
    assert undelivered == []
    for callback in callbacks:
        callback()
    assert undelivered == [
        {"remix_id": paid_remix.pk, "status": "cancelled", "reason": "The artist withdrew consent."}
    ]


def test_lost_messages_are_queued_again_by_the_sweep(
    paid_remix, settings, django_capture_on_commit_callbacks
):
    settings.REMIXING_JOB_REQUEUE_SECONDS = 600
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert jobs_sweep()["remixes_requeued"] == 0  # its message is young
    assert queued == []
    # The broker was flushed long ago; the row still says "queued".
    Remix.objects.filter(pk=paid_remix.pk).update(queued_at=timezone.now() - timedelta(seconds=601))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_sweep()["remixes_requeued"] == 1
    paid_remix.refresh_from_db()
    assert paid_remix.status == Remix.Status.READY


@pytest.fixture
def broken_stems(make_recording, fan, django_capture_on_commit_callbacks):
    """A paid remix waiting for stems that cannot be made (the files are gone)."""
    recording, _ = make_recording(official_stems=True)
    for official in OfficialStem.objects.filter(recording=recording):
        Path(official.file.path).unlink()
    with django_capture_on_commit_callbacks(execute=False):
        remix = remix_create(fan=fan, recording=recording)
        remix_render_start(remix=remix)
    with django_capture_on_commit_callbacks(execute=False):
        assert job_runner.render_execute(remix.pk) == "waiting"
    return remix, remix.stem_set


def test_failed_stem_set_retries_with_backoff_then_fails_for_good(
    broken_stems, fan, undelivered, django_capture_on_commit_callbacks
):
    remix, stem_set = broken_stems
    for _ in (1, 2):
        with django_capture_on_commit_callbacks(execute=False) as queued:
            assert job_runner.stemset_execute(stem_set.pk) == "retrying"
        stem_set.refresh_from_db()
        assert stem_set.status == StemSet.Status.PENDING and len(queued) == 1
        assert stem_set.error.startswith("We couldn't prepare this track for remixing yet")
        assert stem_set.error_detail and stem_set.error_detail not in stem_set.error
        assert job_runner.stemset_execute(stem_set.pk) == "busy"  # the backoff is not due
        StemSet.objects.filter(pk=stem_set.pk).update(queued_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert job_runner.stemset_execute(stem_set.pk) == "failed"
    stem_set.refresh_from_db()
    assert stem_set.status == StemSet.Status.FAILED and stem_set.attempts == 3
    assert stem_set.error == job_records.STEMS_FAILED
    assert "Gave up after 3 attempts" in stem_set.error_detail
    remix.refresh_from_db()
    assert remix.status == Remix.Status.FAILED and remix.error == job_records.REMIX_NO_STEMS
    assert undelivered == [{"remix_id": remix.pk, "status": "failed", "reason": remix.error}]


def test_fan_sees_plain_words_and_opening_the_studio_reruns_nothing(
    broken_stems, fan, client, django_capture_on_commit_callbacks
):
    remix, stem_set = broken_stems
    StemSet.objects.filter(pk=stem_set.pk).update(
        status=StemSet.Status.FAILED,
        attempts=3,
        error=job_records.STEMS_FAILED,
        error_detail="<urlopen error [Errno -3]> … set model_repo",
    )
    draft = remix_create(fan=fan, recording=remix.recording)
    entitle(fan)
    api = APIClient()
    api.force_authenticate(fan)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post(f"/api/v1/remixes/{draft.pk}/stems/")
        status = api.get(f"/api/v1/remixes/{draft.pk}/status/")
    assert queued == []  # a failed set is retried by backoff or staff, never by a page
    assert response.status_code == 200
    body = json.dumps([response.json(), status.json()])
    assert "urlopen" not in body and "model_repo" not in body
    assert response.json()["stem_set"]["error"] == job_records.STEMS_FAILED
    assert StemSet.objects.get(pk=stem_set.pk).status == StemSet.Status.FAILED
    client.force_login(fan)
    page = client.get(f"/studio/remixes/{draft.pk}/").content.decode()
    assert "separated by" not in page  # it failed: no model made these stems


def test_staff_retry_of_a_failed_stem_set_is_logged(
    broken_stems, auditor, fan, client, django_capture_on_commit_callbacks
):
    _, stem_set = broken_stems
    StemSet.objects.filter(pk=stem_set.pk).update(
        status=StemSet.Status.FAILED,
        attempts=3,
        error=job_records.STEMS_FAILED,
        error_detail="boom",
    )
    url = f"/audit/stem-sets/{stem_set.pk}/retry/"
    client.force_login(fan)
    assert client.post(url, {"reason": "mine"}).status_code in (302, 403)
    assert StemSet.objects.get(pk=stem_set.pk).status == StemSet.Status.FAILED
    client.force_login(auditor)
    page = client.get(f"/audit/records/stem-set/{stem_set.pk}/").content.decode()
    assert url in page and "boom" in page  # staff see the detail, and the button
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url, {"reason": "Model weights installed"})
    assert response.status_code == 302
    stem_set.refresh_from_db()
    assert stem_set.status == StemSet.Status.PENDING and stem_set.attempt_limit == 6
    assert len(queued) == 1
    entry = StaffAuditEntry.objects.get(action="stemset.retry")
    assert entry.actor == auditor and entry.subject_id == str(stem_set.pk)
    assert entry.reason == "Model weights installed"


def test_stem_set_of_a_dead_worker_is_taken_over_and_asking_queues_it(
    make_recording, fan, django_capture_on_commit_callbacks
):
    recording, _ = make_recording(official_stems=True)
    with django_capture_on_commit_callbacks(execute=False):
        draft = remix_create(fan=fan, recording=recording)
    stem_set = draft.stem_set
    dead = f"{socket.gethostname()}:{dead_pid()}"
    # A worker claimed it, then was SIGKILLed: "running", a young lease, nobody home.
    StemSet.objects.filter(pk=stem_set.pk).update(
        status=StemSet.Status.RUNNING,
        attempts=1,
        lease_owner=dead,
        lease_expires_at=timezone.now() + timedelta(seconds=100),
        queued_at=timezone.now(),
    )
    entitle(fan)
    api = APIClient()
    api.force_authenticate(fan)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post(f"/api/v1/remixes/{draft.pk}/stems/")
    assert response.status_code == 202 and len(queued) == 1  # 202 means something is queued
    assert job_runner.stemset_execute(stem_set.pk) == "ready"  # the redelivered task takes over
    stem_set.refresh_from_db()
    assert stem_set.status == StemSet.Status.READY and stem_set.attempts == 2
    assert stem_set.stems.count() == 4 and not stem_set.lease_owner


@pytest.mark.django_db(transaction=True)
def test_lease_is_renewed_while_one_long_call_reports_nothing(make_recording, fan, settings, eager):
    settings.REMIXING_JOB_LEASE_SECONDS = 3  # renewed every second
    recording, _ = make_recording(official_stems=True)
    remix = remix_create(fan=fan, recording=recording)  # eager: the stems are made
    remix_render_start(remix=remix)  # eager: rendered; queue a second render by hand
    Remix.objects.filter(pk=remix.pk).update(status="queued", attempt_limit=9)
    _claimed, attempt = job_runner.remix_claim(remix.pk)
    first = Remix.objects.values_list("lease_expires_at", flat=True).get(pk=remix.pk)
    progress = job_runner.Progress(model=Remix, pk=remix.pk, attempt=attempt, start=0, end=95)
    with job_runner.lease_kept(progress):
        time.sleep(2.5)  # a time-stretch that says nothing for a while
    renewed = Remix.objects.values_list("lease_expires_at", flat=True).get(pk=remix.pk)
    assert renewed > first + timedelta(seconds=1)
    assert renewed > timezone.now()  # still live after 2.5 s of a 3 s lease


def test_jobs_past_their_lease_are_listed_for_the_auditor(paid_remix):
    interrupted_at_71(paid_remix, "another-worker-host:4242")
    assert not jobs_past_lease(grace_seconds=60)["remixes"].exists()  # live lease
    Remix.objects.filter(pk=paid_remix.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=61)
    )
    assert list(jobs_past_lease(grace_seconds=60)["remixes"]) == [paid_remix]
    jobs_sweep()
    assert not jobs_past_lease(grace_seconds=60)["remixes"].exists()  # the sweep took it
