"""SEPARATION_RUNTIME in the product path: the stem set, studio, remix API and audit trail
say which runtime ran Demucs (demucs_unittest, real code, run inline)."""

from __future__ import annotations

import sys

import pytest
from django.urls import reverse

from remixing.models import StemSet
from remixing.services import remix_create
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    from config.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


def _separate(make_recording, fan, capture, seconds: float):
    recording, _ = make_recording(seconds=seconds)
    with capture(execute=True):
        remix = remix_create(fan=fan, recording=recording)
    stem_set = StemSet.objects.get()
    assert stem_set.status == StemSet.Status.READY, stem_set.error
    return remix, stem_set


def test_onnx_runtime_makes_the_stems_and_says_so(
    make_recording, fan, eager, settings, tmp_path, client, django_capture_on_commit_callbacks
):
    settings.SEPARATION_RUNTIME = "onnx"
    settings.SEPARATION_ONNX_CACHE = str(tmp_path / "onnx")
    # 1 s segments over 3 s: full segments run in ONNX Runtime, the shorter last one in
    # PyTorch (HDemucs' core is exported for one length).
    settings.DEMUCS_SEGMENT = 1.0
    remix, stem_set = _separate(make_recording, fan, django_capture_on_commit_callbacks, 3.0)
    assert (stem_set.backend, stem_set.model_name) == ("demucs", "demucs_unittest")
    assert stem_set.runtime == "onnxruntime+torch" and stem_set.device == "cpu"
    assert "run by ONNX Runtime" in stem_set.source_label
    assert len(list((tmp_path / "onnx").glob("demucs_unittest-HDemucs-*.onnx"))) == 1
    entitle(fan)
    client.force_login(fan)
    studio = client.get(reverse("remixing:studio", args=[remix.pk])).content.decode()
    assert "Separated by the Demucs demucs_unittest model (run by ONNX Runtime" in studio


def test_without_onnxruntime_pytorch_runs_and_the_trail_says_so(
    make_recording,
    fan,
    auditor,
    eager,
    settings,
    tmp_path,
    client,
    monkeypatch,
    caplog,
    django_capture_on_commit_callbacks,
):
    settings.SEPARATION_RUNTIME = "onnx"
    settings.SEPARATION_ONNX_CACHE = str(tmp_path / "onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # not installed on this worker
    remix, stem_set = _separate(make_recording, fan, django_capture_on_commit_callbacks, 3.0)
    assert stem_set.runtime == "torch"
    assert stem_set.source_label == "Separated by the Demucs demucs_unittest model (run by PyTorch)"
    assert "ONNX Runtime is not used (onnxruntime cannot be imported" in caplog.text
    client.force_login(fan)
    api = client.get(f"/api/v1/remixes/{remix.pk}/").json()
    assert (api["stem_set"]["runtime"], api["stem_set"]["device"]) == ("torch", "cpu")
    client.force_login(auditor)
    trail = client.get(reverse("marketplace:audit_remix_trail", args=[remix.pk])).content.decode()
    assert "demucs_unittest</a> (ready, on cpu, run by torch)" in trail
