"""The Celery app. Queues: `default` (rendering, payouts, checks) and `gpu`
(separation, one task at a time on the GPU worker)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.local")

app = Celery("clearmix")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("gpu"))
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """The filesystem transport needs its folders before the first message."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)
