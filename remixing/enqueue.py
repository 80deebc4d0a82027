"""Queue remixing's tasks by name, after commit: the one way services,
receivers and the job runner ask for worker work.

Nothing but `remixing.tasks` imports the task module (it sits on top: it
imports the job runner, which imports the services). Looking the task up by
name at call time keeps the arrows pointing one way, and still honours eager
mode and the queue routes.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction

SEPARATION = "remixing.tasks.separation_run"
OFFICIAL_IMPORT = "remixing.tasks.stems_import_official"
RENDER = "remixing.tasks.render_run"
STEMS_PREPARE = "remixing.tasks.stems_prepare"
RECORDING_PREVIEW = "remixing.tasks.recording_preview_run"
STEM_LIGHT_STREAMS = "remixing.tasks.stem_light_streams_run"
STRUCTURE = "remixing.tasks.structure_analyse"


def task_enqueue_on_commit(name: str, *args: Any, countdown: float | None = None) -> None:
    """Send task `name` once the current transaction commits (at once outside one)."""

    def send() -> None:
        task = current_app.tasks[name]
        if countdown:
            task.apply_async(args=args, countdown=countdown)
        else:
            task.apply_async(args=args)

    transaction.on_commit(send)
