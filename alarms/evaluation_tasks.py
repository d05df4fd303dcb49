"""Celery tasks of rule evaluation (imported by ``alarms.signals`` at app start, so workers
register them): thin, take ids, call the evaluator."""

from __future__ import annotations

import inspect

from celery import shared_task

from solarhub.background import Call


def _evaluation_call(call: Call) -> dict:
    """``alarms.evaluate_devices`` arguments by name, defaults filled in."""
    bound = inspect.signature(alarms_evaluate_devices.run).bind(*call[0], **call[1])
    bound.apply_defaults()
    return dict(bound.arguments)


def evaluations_merge(pending: Call, incoming: Call) -> Call:
    """Coalescing in the in-process background executor: one evaluation doing the work of both
    calls — the union of the devices and of the metrics (None, "any metric", absorbs a list) and
    the earliest ``since``. A superset is always safe: the evaluator reads each (rule, device)
    from its own ``evaluated_until`` and ``since`` only bounds a device's first look back."""
    from django.utils.dateparse import parse_datetime

    first, second = _evaluation_call(pending), _evaluation_call(incoming)
    metrics = (
        None
        if first["metric_ids"] is None or second["metric_ids"] is None
        else sorted(set(first["metric_ids"]) | set(second["metric_ids"]))
    )
    hints = [since for since in (first["since"], second["since"]) if since]
    return (), {
        "device_ids": sorted(set(first["device_ids"]) | set(second["device_ids"])),
        "metric_ids": metrics,
        "since": min(hints, key=parse_datetime) if hints else None,
    }


@shared_task(name="alarms.evaluate_devices", coalesce=staticmethod(evaluations_merge))
def alarms_evaluate_devices(
    device_ids: list[int], metric_ids: list[int] | None = None, since: str | None = None
) -> int:
    """After an ingest batch: the rules watching the touched devices and metrics (``since``:
    the batch's earliest timestamp, ISO 8601). Without a broker, pending calls coalesce into one
    (:func:`evaluations_merge`)."""
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
