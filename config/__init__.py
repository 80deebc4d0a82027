"""The Django project: settings per environment, root urls, the Celery app,
wsgi and asgi. No business logic lives here."""

from .celery import app as celery_app

__all__ = ["celery_app"]
