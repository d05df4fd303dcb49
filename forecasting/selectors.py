"""Reads of the forecasting app: keyword-only, typed functions named <entity>_<action>."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.db.models import QuerySet

from plants.models import Plant
from plants.selectors import plant_ids_visible_to

from .measured import actual_power_kw, measured_weather, model_from_measured, series_resolution
from .models import ForecastAccuracy, GenerationForecast, PlantCalibration
from .pvmodel import PlantConfigError, plant_model_build

MAX_ACCURACY_ROWS = 366

# What a plant record without a complete model configuration cannot do (each answers 400
# PLANT_CONFIG_INVALID naming the fields); monitoring, alarms and the dashboard still work.
MODEL_FEATURES = ("forecasts", "expected_power")


def plant_model_readiness(*, plant: Plant) -> dict:
    """Whether ``plant``'s record is enough for the pvlib plant model, and if not, every field
    at fault — by the very rule the forecasts and expected power apply (``plant_model_build``),
    so the plant detail and a refused forecast always name the same fields. Mounting (tilt,
    azimuth, tracker geometry), the module datasheet and inverter ratings are optional on the
    plant: an installer may fill them in later, or never for a monitoring-only plant. Nothing is
    assumed: the model never guesses a tilt or a rating. Three queries (the model's own reads).

    ``missing`` lists field names (snake_case, as the model's errors name them); ``errors``
    maps each to its messages. Underperformance alarms fall back to capacity x POA / 1000 while
    the plant is not ready (alarms.evaluation)."""
    if plant.pk is None:
        return {"ready": False, "missing": [], "errors": {}, "features": list(MODEL_FEATURES)}
    try:
        plant_model_build(plant=plant)
    except PlantConfigError as exc:
        errors = {name: list(messages) for name, messages in exc.errors.items()}
    else:
        errors = {}
    return {"ready": not errors, "missing": list(errors), "errors": errors, "features": list(MODEL_FEATURES)}


def forecast_list_visible_to(user) -> QuerySet[GenerationForecast]:
    """Forecasts of the plants ``user`` may see (a subquery, never a per-row check)."""
    return GenerationForecast.objects.filter(plant_id__in=plant_ids_visible_to(user))


def forecast_accuracy_list(*, plant: Plant, horizon: str | None = None) -> list[ForecastAccuracy]:
    """The plant's forecast accuracies over time, oldest first (at most a year's worth)."""
    rows = ForecastAccuracy.objects.filter(forecast__plant=plant).select_related("forecast")
    if horizon:
        rows = rows.filter(forecast__horizon=horizon)
    newest = list(rows.order_by("-forecast__forecast_date", "-forecast_id")[:MAX_ACCURACY_ROWS])
    return newest[::-1]


def accuracy_overall(rows: list[ForecastAccuracy], *, capacity_kw: float) -> dict | None:
    """Point-weighted aggregate of many forecasts' metrics (RMSE and skill recomposed from
    squared errors, not averaged)."""
    if not rows:
        return None
    points = np.array([r.points for r in rows], dtype=float)
    total = points.sum()
    mae = float((points * [r.mae_kw for r in rows]).sum() / total)
    rmse = float(np.sqrt((points * np.square([r.rmse_kw for r in rows])).sum() / total))
    with_reference = [r for r in rows if r.reference_rmse_kw is not None]
    skill = None
    if with_reference:
        weights = np.array([r.points for r in with_reference], dtype=float)
        f = np.sqrt((weights * np.square([r.rmse_kw for r in with_reference])).sum() / weights.sum())
        ref = np.sqrt((weights * np.square([r.reference_rmse_kw for r in with_reference])).sum() / weights.sum())
        skill = float(1 - f / ref) if ref > 0 else None
    return {
        "forecasts": len(rows),
        "points": int(total),
        "mae_kw": round(mae, 4),
        "rmse_kw": round(rmse, 4),
        "nmae_pct": round(100.0 * mae / capacity_kw, 4),
        "bias_kw": round(float((points * [r.bias_kw for r in rows]).sum() / total), 4),
        "skill": None if skill is None else round(skill, 4),
    }


def plant_calibration_list(*, plant: Plant, limit: int = 20) -> list[PlantCalibration]:
    return list(PlantCalibration.objects.filter(plant=plant).order_by("-created_at", "-id")[:limit])


def plant_expected_power(*, plant: Plant, start: datetime, end: datetime) -> dict:
    """Modelled (from measured weather) vs actual AC power per bucket, with their ratio, and
    the totals. ``data`` is empty, with a ``reason``, when the plant has no usable weather."""
    resolution, step = series_resolution(start, end)
    model = plant_model_build(plant=plant)
    body: dict = {
        "plant_id": plant.pk,
        "timezone": plant.timezone,
        "resolution": str(resolution),
        "start": start,
        "end": end,
        "irradiance": None,
        "reason": None,
        "data": [],
        "summary": None,
    }
    weather = measured_weather(plant=plant, start=start, end=end)
    if weather is None:
        body["reason"] = "The plant has no weather station."
        return body
    if weather[["irradiance_poa", "irradiance_ghi"]].notna().to_numpy().sum() == 0:
        body["reason"] = "No irradiance measured in this range."
        return body
    expected, used = model_from_measured(model, weather, step)
    actual = actual_power_kw(plant=plant, start=start, end=end, step=step).reindex(expected.index)
    floor = 0.01 * model.capacity_ac_kw  # ratios of near-zero night values mean nothing
    rows = []
    for ts, e, a in zip(expected.index, expected.to_numpy(), actual.to_numpy(), strict=True):
        e_ = None if np.isnan(e) else round(float(e), 3)
        a_ = None if np.isnan(a) else round(float(a), 3)
        ratio = round(a_ / e_, 4) if e_ is not None and a_ is not None and e_ > floor else None
        rows.append({"timestamp": ts.to_pydatetime(), "expected_kw": e_, "actual_kw": a_, "ratio": ratio})
    hours = step.total_seconds() / 3600.0
    both = ~np.isnan(expected.to_numpy()) & ~np.isnan(actual.to_numpy())
    expected_kwh = float(expected.to_numpy()[both].sum() * hours)
    actual_kwh = float(actual.to_numpy()[both].sum() * hours)
    body.update(
        irradiance=used,
        data=rows,
        summary={
            "expected_kwh": round(expected_kwh, 3),
            "actual_kwh": round(actual_kwh, 3),
            "ratio": round(actual_kwh / expected_kwh, 4) if expected_kwh > 0 else None,
            "intervals_compared": int(both.sum()),
        },
    )
    return body
