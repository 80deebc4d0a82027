"""The Clearmix Django project: settings, urls, Celery app, site shell, accounts."""

from .celery import app as celery_app

__all__ = ["celery_app"]
