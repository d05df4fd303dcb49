"""Reads of the reports app: keyword-only, typed functions named <entity>_<action>."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from plants.models import Plant
from plants.selectors import plant_ids_visible_to
from shadow.selectors import shading_loss_kwh as shadow_shading_loss_kwh

from .models import ReportJob


def report_list_visible_to(user) -> QuerySet[ReportJob]:
    """Reports of the plants ``user`` may see (a subquery, never a per-row check)."""
    return ReportJob.objects.filter(plant_id__in=plant_ids_visible_to(user))


def plant_visible_get(*, user, plant_id) -> Plant | None:
    """The plant if ``user`` may see it (one query), else None (the caller answers 404)."""
    return Plant.objects.filter(pk=plant_id, id__in=plant_ids_visible_to(user)).first()


def shading_loss_kwh(*, plant: Plant, start: datetime, end: datetime) -> float | None:
    """Shading loss (kWh) over ``[start, end)`` from the plant's latest completed shadow run,
    or None when there is none — the loss waterfall then has no shading step.

    The shadow app computes it (pro-rated from the run's monthly summary); this is the only place
    the reports app reads shading from."""
    return shadow_shading_loss_kwh(plant=plant, start=start, end=end)


def report_alarm_rows(*, plant: Plant, start: datetime, end: datetime, limit: int = 200) -> list[dict]:
    """The alarms raised in ``[start, end)`` with their lost energy (the report's alarm table),
    biggest loss first."""
    from alarms.models import Alarm

    rows = (
        Alarm.objects.filter(plant=plant, triggered_at__gte=start, triggered_at__lt=end)
        .select_related("device")
        .order_by("-lost_energy_kwh", "triggered_at", "id")[:limit]
    )
    return [
        {
            "id": alarm.pk,
            "device": alarm.device.name if alarm.device else "",
            "title": alarm.title,
            "severity": alarm.severity,
            "triggered_at": alarm.triggered_at,
            "cleared_at": alarm.cleared_at,
            "lost_energy_kwh": None if alarm.lost_energy_kwh is None else round(alarm.lost_energy_kwh, 3),
        }
        for alarm in rows
    ]
