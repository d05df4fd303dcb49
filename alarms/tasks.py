"""Celery tasks of the alarms app: thin, take ids, call a service."""

from __future__ import annotations

import random

from celery import shared_task

from . import notifications


@shared_task(bind=True, name="alarms.send_notification", max_retries=notifications.MAX_ATTEMPTS)
def send_notification(self, delivery_id: int) -> str:
    """One attempt at one ``NotificationDelivery`` (e-mail or signed webhook). Failures are
    recorded on the row and retried with exponential backoff and jitter until
    ``notifications.MAX_ATTEMPTS`` attempts were made (then the row is ``failed``)."""
    outcome = notifications.delivery_send(delivery_id=delivery_id)
    while outcome == notifications.DeliveryOutcome.RETRY and self.request.is_eager:
        # Eager mode (tests, no broker) propagates Retry instead of re-running the task: retry
        # in place, without the backoff wait. Bounded by MAX_ATTEMPTS (delivery_send counts).
        outcome = notifications.delivery_send(delivery_id=delivery_id)
    if outcome == notifications.DeliveryOutcome.RETRY:
        from .models import NotificationDelivery

        attempts = NotificationDelivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True).first() or 1
        countdown = notifications.retry_countdown(attempts)
        raise self.retry(countdown=countdown + random.randint(0, max(countdown // 4, 1)))  # noqa: S311
    return outcome
