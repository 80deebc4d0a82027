"""The Celery app, with the queues of core.queues: `paid` (what a fan who has
paid waits for, taken first), `default` and `gpu`."""

import os

from celery import Celery
from django.conf import settings
from kombu import Queue

from core.queues import DEFAULT, GPU, PAID

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("clearmix")


@app.on_after_configure.connect
def ensure_broker_folders(sender: Celery | None = None, **kwargs: object) -> None:
    """The filesystem transport needs its folders before the first message, in
    every process that sends or consumes one: Celery calls this when it first
    reads its configuration (connected before anything could read it)."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)


app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue(PAID), Queue(DEFAULT), Queue(GPU))
app.autodiscover_tasks()
