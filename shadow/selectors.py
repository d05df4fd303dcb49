"""Reads of the shadow app: keyword-only, typed functions named <entity>_<action>."""

from __future__ import annotations

import calendar
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from plants.models import Plant
from plants.selectors import plant_ids_visible_to
from twins.geometry import twin_meshes
from twins.selectors import twin_version_data

from .choices import ShadowArtifact, ShadowRunStatus
from .export import loss_glb
from .models import ShadowRun


def shadow_run_list_visible_to(user) -> QuerySet[ShadowRun]:
    """Runs of the plants ``user`` may see (a subquery, never a per-row check)."""
    return ShadowRun.objects.filter(plant_id__in=plant_ids_visible_to(user))


def shadow_run_artifact_path(*, run: ShadowRun, kind: ShadowArtifact) -> Path | None:
    """The file of ``kind`` of a completed run, or None (not produced, or gone)."""
    relative = (run.artifacts or {}).get(kind.value) if run.status == ShadowRunStatus.COMPLETED else None
    path = Path(settings.MEDIA_ROOT) / relative if relative else None
    return path if path is not None and path.is_file() else None


def shadow_run_panels(*, run: ShadowRun) -> list[dict] | None:
    """The per-panel table of a computed run (None for an external or unfinished one)."""
    path = shadow_run_artifact_path(run=run, kind=ShadowArtifact.PANELS)
    return json.loads(path.read_text()) if path else None


def shadow_run_loss_glb(*, run: ShadowRun) -> bytes | None:
    """The run's twin version as GLB with panels coloured by loss (None without a per-panel
    result or when the twin version is gone)."""
    rows = shadow_run_panels(run=run)
    found = twin_version_data(twin=run.twin, version=run.twin_version) if rows is not None and run.twin else None
    if found is None:
        return None
    meshes = twin_meshes(twin_data=found[1])
    return loss_glb(meshes, loss_pct={r["panel_id"]: r["loss_pct"] for r in rows}, run_id=run.pk)


def shadow_run_latest_completed(*, plant: Plant) -> ShadowRun | None:
    return (
        ShadowRun.objects.filter(plant=plant, status=ShadowRunStatus.COMPLETED, result_summary__isnull=False)
        .order_by("-completed_at", "-id")
        .first()
    )


def shading_loss_kwh(*, plant: Plant, start: datetime, end: datetime) -> float | None:
    """Shading loss (kWh) over ``[start, end)`` from the plant's latest completed run, pro-rated
    from its monthly summary: each plant-local day of the period gets its calendar month's loss
    / days of that month (a run over a typical year stands for every year; a month the run
    covers more than once is averaged). None without a run, or when the run has no month of the
    period."""
    run = shadow_run_latest_completed(plant=plant)
    monthly = ((run.result_summary or {}).get("monthly") or []) if run else []
    per_month: dict[int, list[float]] = {}
    for entry in monthly:
        try:
            year, month = (int(v) for v in str(entry["month"]).split("-")[:2])
            loss = float(entry["loss_kwh"])
        except (KeyError, TypeError, ValueError):
            continue
        per_month.setdefault(month, []).append(loss / calendar.monthrange(year, month)[1])
    if not per_month:
        return None
    tz = ZoneInfo(plant.timezone)
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    total, covered = 0.0, False
    day: date = first
    while day <= last:
        daily = per_month.get(day.month)
        if daily:
            total += sum(daily) / len(daily)
            covered = True
        day += timedelta(days=1)
    return round(total, 3) if covered else None
