"""Job kinds of the forecasting app (the generic job-status model, ``GET /api/jobs/{id}``)."""

from __future__ import annotations

from datetime import date

from solarhub.jobs import register_job

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
