"""The image and the compose stack: what they promise holds (read from the files)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def entrypoint_branch(name: str) -> str:
    script = (ROOT / "docker" / "entrypoint.sh").read_text()
    match = re.search(rf"^  {re.escape(name)}\)\n(.*?);;", script, re.MULTILINE | re.DOTALL)
    assert match, f"docker/entrypoint.sh has no {name!r} command"
    return match.group(1)


def test_web_never_migrates_and_migrate_is_its_own_command():
    assert "migrate" not in entrypoint_branch("web")
    assert "manage.py migrate" in entrypoint_branch("migrate")


def test_compose_runs_migrate_once_before_the_long_running_services():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat", "gpu-worker"):
        waits_for = services[name]["depends_on"]["migrate"]
        assert waits_for == {"condition": "service_completed_successfully"}, name


def test_the_gpu_worker_image_is_built_with_a_cuda_torch():
    # torch is picked at build time; a run-time TORCH_INDEX would do nothing.
    gpu = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["gpu-worker"]
    assert "/cu" in gpu["build"]["args"]["TORCH_INDEX"]
    assert gpu["image"] != "clearmix:latest"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-e TORCH_INDEX" not in dockerfile
    assert 'ARG TORCH_INDEX="https://download.pytorch.org/whl/cpu"' in dockerfile


def test_the_image_copies_every_package_that_pyproject_installs():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        pattern.rstrip("*")
        for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert packages == copied


def test_secrets_in_dot_env_stay_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored
