"""Celery tasks of rule evaluation (imported by ``alarms.signals`` at app start, so workers
register them): thin, take ids, call the evaluator."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="alarms.evaluate_devices")
def alarms_evaluate_devices(
    device_ids: list[int], metric_ids: list[int] | None = None, since: str | None = None
) -> int:
    """After an ingest batch: the rules watching the touched devices and metrics (``since``:
    the batch's earliest timestamp, ISO 8601)."""
    from django.utils.dateparse import parse_datetime

    from .evaluation import devices_evaluate

    return devices_evaluate(
        device_ids=device_ids, metric_ids=metric_ids, since=parse_datetime(since) if since else None
    )


@shared_task(name="alarms.evaluate_time_based")
def alarms_evaluate_time_based() -> dict:
    """Every minute (beat): communication loss against the clock; expired shelves."""
    from .evaluation import time_based_evaluate
    from .services import alarms_unshelve_expired

    return {"transitions": time_based_evaluate(), "unshelved": alarms_unshelve_expired()}
