"""The Celery application. Workers: ``celery -A solarhub worker``; beat: ``celery -A solarhub beat``.

Reliability settings (JSON only, ``acks_late``, ``task_reject_on_worker_lost``, prefetch 1, time
limits) live in settings (``CELERY_*``); tasks derive from :class:`BaseTask`, which retries
transient infrastructure errors with exponential backoff and jitter, and which — without a broker
(eager) and with ``CELERY_EAGER_BACKGROUND`` — hands tasks to the in-process background thread
(:mod:`solarhub.background`) instead of running them in the caller.
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

from celery import Celery, Task, states
from celery.result import EagerResult
from celery.utils import uuid
from django.db import InterfaceError, OperationalError, transaction
from kombu import serialization

from solarhub import background

# The same default as wsgi/asgi: a worker or beat started bare runs the production settings
# (`make worker`/`make beat` name the local ones, as `manage.py` defaults to them).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solarhub.settings.production")


class BaseTask(Task):
    """Retry what a later attempt can fix (database or broker hiccups), never programming errors.

    Eager mode with ``CELERY_EAGER_BACKGROUND`` on: ``apply_async``/``delay`` queue the call on the
    process's background thread and return at once (after the caller's transaction commits, when
    called inside one: the thread has its own connection and could not see uncommitted rows).
    Arguments go through the task serializer as they would to a broker, so a task that works here
    works on workers. A task opts into coalescing with ``coalesce``: a
    :data:`solarhub.background.Merge` (``staticmethod``) combining a pending call with a new one.
    """

    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5

    autoretry_for = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

    coalesce: ClassVar[background.Merge | None] = None

    def apply_async(
        self,
        args=None,
        kwargs=None,
        task_id=None,
        producer=None,
        link=None,
        link_error=None,
        shadow=None,
        **options,
    ):
        if self._get_app().conf.task_always_eager and background.enabled():
            return self._hand_to_background(args, kwargs, task_id or uuid(), link, link_error, options)
        return super().apply_async(args, kwargs, task_id, producer, link, link_error, shadow, **options)

    def _hand_to_background(self, args, kwargs, task_id: str, link, link_error, options: dict[str, Any]) -> EagerResult:
        args, kwargs = tuple(args or ()), dict(kwargs or {})
        if self.typing:
            self.__header__(*args, **kwargs)  # a wrong signature fails in the caller, as Celery's does
        serializer = options.get("serializer") or self._get_app().conf.task_serializer
        content_type, encoding, data = serialization.dumps((args, kwargs), serializer)
        args, kwargs = serialization.loads(data, content_type, encoding, accept=[content_type])

        def run(*call_args, **call_kwargs):
            return self.apply(call_args, call_kwargs, task_id=task_id, link=link, link_error=link_error, **options)

        coalescible = self.coalesce is not None and link is None and link_error is None
        key = (self.name, json.dumps(options, sort_keys=True, default=str)) if coalescible else None

        def hand_over() -> None:
            background.submit(run, tuple(args), kwargs, key=key, merge=self.coalesce, label=self.name)

        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(hand_over)
        else:
            hand_over()
        # Results are not kept (CELERY_TASK_IGNORE_RESULT; job state lives in status rows).
        return EagerResult(task_id, None, states.PENDING, name=self.name)


app = Celery("solarhub", task_cls=BaseTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
