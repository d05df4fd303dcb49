"""SolarHub project package: settings, URLs, Celery app and the API plumbing every app shares."""

from .celery import app as celery_app

__all__ = ("celery_app",)
