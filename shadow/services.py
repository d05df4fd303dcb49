"""Writes of the shadow app: keyword-only, typed functions named <entity>_<action>.

A run is requested (:func:`shadow_run_request`: rights, twin and parameters checked now — a 400
here, not a failed job later), queued as a ``shadow.run`` job on the generic job runner (lease,
heartbeat, one redo after a dead worker: ``JOB_MAX_ATTEMPTS``), and computed on a worker by
:func:`shadow_run_compute`, which reports ``progress`` as it goes and stops when the run was
cancelled meanwhile. Files go under ``MEDIA_ROOT/shadow/<plant>/<run>/``, replaced atomically.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pvlib
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework import exceptions

from plants.access import PlantAction
from plants.models import PanelSpec, Plant
from plants.selectors import plant_get_for
from solarhub.api.exceptions import ApiError
from solarhub.jobs.services import job_enqueue, job_fail
from twins.models import DigitalTwin
from twins.selectors import twin_version_data

from . import summary as summaries
from .choices import ACTIVE_STATUSES, SHADOW_RUN, ShadowArtifact, ShadowRunStatus
from .model import ModuleSpec, NearShadingTable, ShadowCancelled, shading_compute, sun_times
from .models import ShadowRun

logger = logging.getLogger("solarhub.shadow")

MAX_DAYS = 731  # two years
MAX_CELLS = 30_000_000  # time steps x panels of one run (bounded memory on a worker)
MAX_RAYCAST_CELLS = 20_000  # the ray-cast row model is for small twins
PROGRESS_EVERY = 5  # percent


class NoTwin(ApiError):
    """400 ``NO_DIGITAL_TWIN``: the plant has no twin to analyse yet."""

    default_code = "no_digital_twin"


def run_dir(run: ShadowRun) -> Path:
    return Path(settings.MEDIA_ROOT) / "shadow" / str(run.plant_id) / str(run.pk)


def default_period(*, tz: ZoneInfo) -> tuple[date, date]:
    """The current calendar year (plant-local): the default "whole year hourly"."""
    year = timezone.now().astimezone(tz).year
    return date(year, 1, 1), date(year, 12, 31)


def _invalid(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({"parameters": {field: [message]}})


def shadow_parameters_check(*, plant: Plant, twin_data: dict, parameters: dict) -> dict:
    """Complete and check a run's parameters against the plant and the twin: the period (end not
    before start, at most two years), the step, the size of the computation. Returns the stored
    form (ISO dates, defaults filled in)."""
    tz = ZoneInfo(plant.timezone)
    start, end = parameters.get("start"), parameters.get("end")
    if start is None and end is None:
        start, end = default_period(tz=tz)
    elif start is None or end is None:
        raise _invalid("start" if start is None else "end", "start and end go together.")
    if end < start:
        raise _invalid("end", "end must not be before start.")
    if (end - start).days + 1 > MAX_DAYS:
        raise _invalid("end", f"At most {MAX_DAYS} days (two years) per run.")
    step = parameters.get("step_minutes", 60)
    days = (end - start).days + 1
    panels = sum(1 for o in twin_data["scene"]["objects"] if o.get("type") == "solar_panel")
    if not panels:
        raise exceptions.ValidationError({"twin_id": ["The twin has no solar panels to analyse."]})
    cells = days * 24 * 60 / step * panels / 2  # about half the steps have the sun up
    if cells > MAX_CELLS:
        raise _invalid("step_minutes", f"{panels} panels x {days} days at {step} min is too big; use a longer step.")
    row_model = parameters.get("row_model", "analytic")
    if row_model == "raycast" and cells > MAX_RAYCAST_CELLS:
        raise _invalid("row_model", "raycast is for small twins and short periods; use analytic.")
    grid = parameters.get("samples_per_panel") or [4, 2]
    if parameters.get("shading_table") and row_model == "raycast":
        raise _invalid("shading_table", "The near-shading table serves the analytic row model.")
    return {
        "shading_table": bool(parameters.get("shading_table", False)),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "step_minutes": step,
        "weather": parameters.get("weather", "clearsky"),
        "samples_per_panel": list(grid),
        "row_model": row_model,
    }


def _twin_for(plant: Plant, twin_id: int | None) -> DigitalTwin:
    existing = DigitalTwin.objects.filter(plant=plant).first()
    if twin_id is not None and (existing is None or twin_id != existing.pk):
        # a missing twin and another plant's answer alike: no existence oracle
        raise exceptions.ValidationError({"twin_id": ["Not the twin of this plant."]})
    if existing is None:
        raise NoTwin(
            "The plant has no digital twin. Generate one from its registry with "
            f"POST /api/plants/{plant.pk}/digital-twin/generate (or create one with POST /api/digital-twins), "
            "then request the analysis again."
        )
    return existing


def shadow_run_request(*, by, plant_id: int, parameters: dict, twin_id: int | None = None) -> ShadowRun:
    """Accept a shadow analysis (``operate`` on the plant, checked inside the transaction) and
    queue its job after commit."""
    with transaction.atomic():
        plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.OPERATE, lock=True)
        twin = _twin_for(plant, twin_id)
        stored = shadow_parameters_check(plant=plant, twin_data=twin.twin_data, parameters=parameters)
        run = ShadowRun.objects.create(
            plant=plant, twin=twin, twin_version=twin.version, requested_by=by, parameters=stored
        )
        job, _ = job_enqueue(
            kind=SHADOW_RUN, requested_by=by, plant=plant, params={"runId": run.pk}, unique_key=f"{SHADOW_RUN}:{run.pk}"
        )
        ShadowRun.objects.filter(pk=run.pk).update(job=job)
        run.job = job
    return run


def _module_spec(plant: Plant) -> tuple[ModuleSpec, list[str]]:
    spec = PanelSpec.objects.filter(plant=plant).order_by("id").first()
    notes = []
    if spec is None:
        notes.append("No panel spec: a 420 W module with -0.35 %/°C assumed.")
        return ModuleSpec(), notes
    gamma = spec.coefficient_pmax_pct
    if gamma is None:
        notes.append("Panel spec without coefficient_pmax_pct: -0.35 %/°C assumed.")
        gamma = -0.35
    return ModuleSpec(pdc0_w=spec.p_max_w, gamma_pdc=gamma / 100.0, blocks=3,
                      temperature_model=plant.temperature_model or "open_rack_glass_polymer"), notes  # fmt: skip


def _progress_hook(run: ShadowRun):
    last = {"value": 0}

    def hook(fraction: float) -> None:
        value = min(99, int(fraction * 100))
        if value - last["value"] < PROGRESS_EVERY:
            return
        last["value"] = value
        alive = ShadowRun.objects.filter(pk=run.pk, status=ShadowRunStatus.RUNNING).update(progress=value)
        if not alive:  # cancelled (or finished elsewhere) meanwhile
            raise ShadowCancelled()

    return hook


def shadow_run_compute(*, run: ShadowRun) -> dict:
    """Compute ``run`` on its twin version: the shading model (``shadow.model``), then the
    summary, the per-panel table and the files. Returns the summary (also stored)."""
    plant = run.plant
    found = twin_version_data(twin=run.twin, version=run.twin_version) if run.twin else None
    if found is None:
        raise ValueError("The twin version this run names is gone.")
    _, twin_data = found
    params = run.parameters
    tz = ZoneInfo(plant.timezone)
    start = pd.Timestamp(datetime.combine(date.fromisoformat(params["start"]), time.min), tz=tz)
    end = pd.Timestamp(datetime.combine(date.fromisoformat(params["end"]) + timedelta(days=1), time.min), tz=tz)
    times = sun_times(start=start, end=end, step_minutes=params["step_minutes"])
    location = pvlib.location.Location(
        plant.latitude, plant.longitude, tz=plant.timezone, altitude=plant.elevation_m or 0.0
    )
    module, notes = _module_spec(plant)
    table, table_path = None, None
    if params.get("shading_table"):
        grid = "x".join(str(n) for n in params["samples_per_panel"])
        table_path = (
            Path(settings.MEDIA_ROOT) / "shadow" / "tables" / f"twin-{run.twin_id}-v{run.twin_version}-{grid}.npz"
        )
        table = NearShadingTable.load(table_path) if table_path.is_file() else NearShadingTable()
        notes.append(f"Near-shading table of twin version {run.twin_version}: {len(table.bins)} bins reused.")
    result = shading_compute(
        twin_data=twin_data, location=location, times=times, weather=params["weather"],
        grid=tuple(params["samples_per_panel"]), row_model=params["row_model"], module=module,
        albedo=float(plant.albedo), progress=_progress_hook(run), table=table,
    )  # fmt: skip
    if table_path is not None:
        table_path.parent.mkdir(parents=True, exist_ok=True)
        table.save(table_path)  # atomic replace; a concurrent run's table is as good
    result.choices["notes"] = notes
    result.choices["twinVersion"] = run.twin_version
    rows = summaries.panel_rows(result)
    summary = summaries.summary_build(result, tz=plant.timezone, rows=rows)
    folder = run_dir(run)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        ShadowArtifact.PANELS: ("panels.json", json.dumps(rows).encode()),
        ShadowArtifact.HEATMAP: ("heatmap.png", summaries.heatmap_png(rows)),
        ShadowArtifact.MATRIX: ("matrix.png", summaries.matrix_png(summary)),
        ShadowArtifact.CSV: ("result.csv", summaries.panels_csv(rows)),
    }
    artifacts = {}
    for kind, (name, content) in files.items():
        path = folder / name
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(content)
        tmp.replace(path)  # a reader never sees half a file
        artifacts[kind.value] = str(path.relative_to(settings.MEDIA_ROOT))
    npz = folder / "result.npz"
    summaries.npz_write(npz, result)
    artifacts[ShadowArtifact.RESULT.value] = str(npz.relative_to(settings.MEDIA_ROOT))
    done = ShadowRun.objects.filter(pk=run.pk, status=ShadowRunStatus.RUNNING).update(
        status=ShadowRunStatus.COMPLETED,
        result_summary=summary,
        artifacts=artifacts,
        asset_url=reverse("api:shadow-analysis-heatmap", kwargs={"pk": run.pk}),
        progress=100,
        error="",
        completed_at=timezone.now(),
    )
    if not done:
        raise ShadowCancelled()
    return summary


def shadow_run_execute(*, run_id: int) -> dict:
    """The job's body: claim the run (queued, or running again after a dead worker), compute it,
    record the outcome. A cancelled, finished or missing run is left as it is."""
    claimed = ShadowRun.objects.filter(pk=run_id, status__in=ACTIVE_STATUSES).update(
        status=ShadowRunStatus.RUNNING, started_at=timezone.now(), progress=0, error=""
    )
    if not claimed:
        run = ShadowRun.objects.filter(pk=run_id).only("status").first()
        return {"runId": run_id, "status": run.status if run else "missing"}
    run = ShadowRun.objects.select_related("plant", "twin").get(pk=run_id)
    try:
        shadow_run_compute(run=run)
    except ShadowCancelled:
        logger.info("Shadow run %s was cancelled while computing", run_id)
        return {"runId": run_id, "status": ShadowRunStatus.CANCELLED.value}
    except Exception as exc:
        ShadowRun.objects.filter(pk=run_id, status=ShadowRunStatus.RUNNING).update(
            status=ShadowRunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000], completed_at=timezone.now()
        )
        raise
    return {"runId": run_id, "status": ShadowRunStatus.COMPLETED.value}


def shadow_run_cancel(*, run: ShadowRun) -> ShadowRun:
    """Stop a queued or running run: it becomes ``cancelled`` now; a queued job is failed so no
    worker starts it, a running computation stops at its next progress step."""
    if run.status not in ACTIVE_STATUSES:
        raise ApiError(f"A {run.status} run cannot be cancelled.", code="not_cancellable", status_code=409)
    ShadowRun.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES).update(
        status=ShadowRunStatus.CANCELLED, completed_at=timezone.now(), error="Cancelled on request."
    )
    if run.job_id:  # a queued job never starts; a running one's outcome is discarded
        job_fail(job_id=run.job_id, error="Shadow run cancelled.")
    run.refresh_from_db()
    return run


def shadow_run_complete(*, run: ShadowRun, result_summary: dict, asset_url: str = "") -> ShadowRun:
    """Seed 000's completion step for a run computed outside SolarHub: its summary (which may
    carry ``annual``/``monthly`` loss the reports read) and an optional asset URL."""
    run.status = ShadowRunStatus.COMPLETED
    run.result_summary = result_summary
    run.asset_url = asset_url
    run.progress = 100
    run.error = ""
    run.completed_at = timezone.now()
    run.save(update_fields=["status", "result_summary", "asset_url", "progress", "error", "completed_at"])
    return run
