"""The beat schedule: one table (config.beat), taken whole by settings,
naming only tasks that exist."""

from __future__ import annotations

from django.conf import settings

from config.beat import beat_schedule
from config.celery import app


def test_settings_take_the_one_schedule():
    expected = beat_schedule(
        remixing_jobs_sweep_seconds=settings.REMIXING_JOB_SWEEP_SECONDS,
        payouts_sweep_seconds=settings.PAYOUTS_SWEEP_SECONDS,
    )
    assert repr(settings.CELERY_BEAT_SCHEDULE) == repr(expected)


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    missing = {
        name: entry["task"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in app.tasks
    }
    assert missing == {}
    assert len(settings.CELERY_BEAT_SCHEDULE) == 11
