"""Settings per environment: production refuses to start misconfigured and
passes `check --deploy`; bad variables give one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "-production-secret-" + "x" * 30


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="clearmix.example",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="short",
        DJANGO_ALLOWED_HOSTS="clearmix.example",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be a random string" in result.stderr


def test_production_check_deploy_is_clean():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="clearmix.example",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_malformed_variable_names_it_in_one_line():
    result = run_manage(
        "check", DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_DEBUG="maybe"
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "Clearmix configuration error: DJANGO_DEBUG must be true or false, got 'maybe'."
    )
    assert "Traceback" not in result.stderr


def test_malformed_database_url_is_named():
    result = run_manage(
        "check", DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL="nosuchdb://x"
    )
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_embedded_defaults_need_no_configuration(tmp_path):
    code = (
        "import django, os; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.STRIPE_API_BASE, s.STORAGES['default']['BACKEND'])"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
    )
    assert result.returncode == 0, result.stderr
    engine, broker, stripe_base, storage = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert stripe_base.startswith("http://127.0.0.1")
    assert storage.endswith("FileSystemStorage")


def test_celery_is_configured_for_long_reliable_jobs():
    from config.celery import app

    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_always_eager is False
    assert [q.name for q in conf.task_queues] == ["paid", "default", "gpu"]
    router = app.amqp.router
    assert router.route({}, "remixing.tasks.separation_run")["queue"].name == "gpu"
    assert router.route({}, "remixing.tasks.render_run")["queue"].name == "paid"
    assert router.route({}, "marketplace.tasks.order_fulfil")["queue"].name == "paid"
    assert router.route({}, "remixing.tasks.recording_preview_run")["queue"].name == "default"
