"""The Celery application. Workers: ``celery -A solarhub worker``; beat: ``celery -A solarhub beat``.

Reliability settings (JSON only, ``acks_late``, ``task_reject_on_worker_lost``, prefetch 1, time
limits) live in settings (``CELERY_*``); tasks derive from :class:`BaseTask`, which retries
transient infrastructure errors with exponential backoff and jitter.
"""

from __future__ import annotations

import os

from celery import Celery, Task
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solarhub.settings.local")


class BaseTask(Task):
    """Retry what a later attempt can fix (database or broker hiccups), never programming errors."""

    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5

    autoretry_for = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


app = Celery("solarhub", task_cls=BaseTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
