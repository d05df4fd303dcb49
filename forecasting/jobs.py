"""Job kinds of the forecasting app (the generic job-status model, ``GET /api/jobs/{id}``): the
forecast run and the rule that accepts a request for one (:func:`forecast_run_request`)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from plants.access import PlantAction
from plants.selectors import plant_get_for
from solarhub.api.exceptions import ApiError
from solarhub.jobs import register_job
from solarhub.jobs.services import job_enqueue

from .choices import WeatherSource
from .windows import forecast_window

FORECAST_RUN = "forecasting.run"


@register_job(FORECAST_RUN)
def forecast_run(*, job) -> dict:
    """Compute and store the forecast described by ``job.params``; the result names it."""
    from .services import forecast_generate

    params = job.params or {}
    start = date.fromisoformat(params["start"]) if params.get("start") else None
    forecast = forecast_generate(
        plant=job.plant,
        horizon=params["horizon"],
        source=params["source"],
        start=start,
        weather=params.get("weather"),
        by=job.requested_by,
        job=job,
    )
    return {"forecastId": forecast.pk}


def _unique_key(plant_id: int, params: dict) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{FORECAST_RUN}:{plant_id}:{digest}"


def forecast_run_request(*, by, plant_id: int, horizon: str, source: str, start: datetime | None = None, weather=None):
    """Accept a request for a forecast run and queue it as a job: ``(job, created)``. Parameters,
    the plant record and posted weather are checked now (a domain error here, not a failed job
    later); the same request while an identical run is still queued answers that job. Needs the
    ``operate`` right on the plant (``plant_get_for``: invisible → ``PlantNotFound``)."""
    from . import services

    with transaction.atomic():
        plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.OPERATE, lock=True)
        services.forecast_params_check(horizon=horizon, source=source, weather=weather)
        model = services.plant_model_build(plant=plant)
        if weather:  # posted weather is checked now: a 400 here, not a failed job later
            window = forecast_window(horizon=horizon, tz=ZoneInfo(plant.timezone), start=start, now=timezone.now())
            services.model_weather(model=model, window=window, source=source, weather=weather)
        if source == WeatherSource.SMART_PERSISTENCE and (
            services.clear_sky_index_latest(plant=plant, model=model, at=timezone.now()) is None
        ):
            raise ApiError(
                "Smart persistence needs measured AC power from the last day with the sun up; the plant has none.",
                code="no_recent_actuals",
            )
        params = {
            "horizon": horizon,
            "source": source,
            "start": start.isoformat() if start else None,
            "weather": weather,
        }
        return job_enqueue(
            kind=FORECAST_RUN, requested_by=by, plant=plant, params=params, unique_key=_unique_key(plant.pk, params)
        )
