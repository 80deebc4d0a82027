"""Queue royalties' tasks by name.

Services ask for work through here instead of importing `royalties.tasks`
(which calls the services): looking the task up by name at send time keeps the
services free of the tasks module, and still honours eager mode and routes.
"""

from __future__ import annotations

from celery import current_app
from django.db import transaction

TRANSFER_LINE = "royalties.tasks.transfer_line"
REVERSAL_EXECUTE = "royalties.tasks.reversal_execute"
PAYOUTS_SWEEP = "royalties.tasks.payouts_sweep"
SETTLEMENTS_POST = "royalties.tasks.settlements_post"


def task_registered(name: str):
    """The task called `name`. Celery imports the apps' tasks modules lazily (when a
    worker starts): a process that has not imported royalties.tasks yet (a shell, a
    command, a test that settles before serving any request) imports them now."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def task_send(name: str, *args) -> None:
    """Send task `name` now (callers outside any transaction: sweeps)."""
    task_registered(name).apply_async(args=args)


def task_enqueue_on_commit(name: str, *args) -> None:
    """Send task `name` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_send(name, *args))
