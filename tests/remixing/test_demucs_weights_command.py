"""manage.py demucs_weights: install from a local file (checksum verified), status."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.remixing.engine.test_engine_demucs_weights import SIG, save_unittest_model


def run(*args: str) -> str:
    out = StringIO()
    call_command("demucs_weights", *args, stdout=out)
    return out.getvalue()


def test_install_then_status_then_auto_picks_demucs(settings, tmp_path):
    weights = save_unittest_model(tmp_path / "usb")
    (tmp_path / "usb" / "clearmix_test.yaml").write_text(f"models: ['{SIG}']\n")
    settings.DEMUCS_MODEL_REPO = str(tmp_path / "repo")
    settings.DEMUCS_MODEL = "clearmix_test"
    settings.SEPARATION_BACKEND = "auto"
    assert "separation: embedded" in run("status")
    output = run("install", "--from", str(tmp_path / "usb"))
    assert f"installed {weights.name}" in output and "clearmix_test" in output
    status = run("status", "--verify")
    assert "clearmix_test: ready" in status and "checksum ok" in status
    assert "separation: demucs clearmix_test" in status


def test_a_corrupted_file_is_refused(settings, tmp_path):
    weights = save_unittest_model(tmp_path / "usb")
    weights.write_bytes(weights.read_bytes()[:-10])  # truncated in transit
    settings.DEMUCS_MODEL_REPO = str(tmp_path / "repo")
    with pytest.raises(CommandError, match="checksum mismatch"):
        run("install", "--from", str(weights))
    assert not (tmp_path / "repo").exists()
