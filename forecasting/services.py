"""Writes (and the public computations) of the forecasting app: keyword-only, typed functions
named <entity>_<action>. Views, jobs, beat tasks and ``seed_demo`` all call these.

Public entry points other apps use:

* :func:`plant_model_build` — the pvlib model of a plant (400 ``PLANT_CONFIG_INVALID`` naming
  the fields when the record is incomplete or inconsistent).
* :func:`expected_power_kw` — modelled AC power from measured weather (alarms, reports).
* :func:`forecast_compute` / :func:`forecast_generate` — a forecast, computed / stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions

from plants.models import Plant
from solarhub.api.exceptions import ApiError
from solarhub.api.params import iso

from . import calibration as calib
from .accuracy import accuracy_metrics, bucket_means
from .choices import Horizon, Resolution, WeatherSource
from .measured import FIVE_MINUTES, actual_power_kw, measured_weather, model_from_measured
from .models import ExpectedPower, ForecastAccuracy, GenerationForecast, PlantCalibration
from .pvmodel import PlantConfigError, PlantModel, plant_model_build
from .weather import (
    ModelWeather,
    clearsky_weather,
    cloud_cover_weather,
    irradiance_weather,
    tmy_weather,
    uploaded_tmy_weather,
)
from .windows import QUARTER, Window, bucket_labels, forecast_window

logger = logging.getLogger("solarhub.forecasting")

__all__ = [
    "PlantConfigError",
    "expected_power_kw",
    "expected_power_store",
    "forecast_accuracy_compute",
    "forecast_compute",
    "forecast_create",
    "forecast_generate",
    "plant_calibration_fit",
    "plant_model_build",
]

# Which sources each horizon accepts (measured weather is for expected power, not forecasts).
HORIZON_SOURCES: dict[str, set[str]] = {
    Horizon.INTRADAY: {
        WeatherSource.CLEARSKY,
        WeatherSource.SMART_PERSISTENCE,
        WeatherSource.CLOUD_COVER,
        WeatherSource.IRRADIANCE,
    },
    Horizon.DAY_AHEAD: {WeatherSource.CLEARSKY, WeatherSource.CLOUD_COVER, WeatherSource.IRRADIANCE, WeatherSource.TMY},
    Horizon.WEEK_AHEAD: {
        WeatherSource.CLEARSKY,
        WeatherSource.CLOUD_COVER,
        WeatherSource.IRRADIANCE,
        WeatherSource.TMY,
    },
    Horizon.MONTH_AHEAD: {WeatherSource.CLEARSKY, WeatherSource.TMY},
    Horizon.YEAR: {WeatherSource.CLEARSKY, WeatherSource.TMY},
}
CALIBRATED_SOURCES = {WeatherSource.CLEARSKY, WeatherSource.CLOUD_COVER, WeatherSource.IRRADIANCE, WeatherSource.TMY}
CALIBRATION_MAX_AGE = timedelta(days=45)
ACCURACY_RESOLUTIONS = {Resolution.FIFTEEN_MINUTES, Resolution.HOUR}


# --- forecasts ----------------------------------------------------------------------------------


@dataclass
class ForecastResult:
    window: Window
    power_kw: pd.Series  # model step, indexed by interval starts (UTC)
    points: list[dict]
    summary: dict
    model_config: dict
    calibration: dict = field(default_factory=dict)


def forecast_params_check(*, horizon: str, source: str, weather) -> None:
    """400 for a horizon/source pair that does not exist or a source without its weather."""
    if source not in HORIZON_SOURCES.get(horizon, set()):
        allowed = ", ".join(sorted(HORIZON_SOURCES.get(horizon, set())))
        raise exceptions.ValidationError(
            {"source": [f"'{source}' is not offered for {horizon}; use one of: {allowed}."]}
        )
    if source in (WeatherSource.CLOUD_COVER, WeatherSource.IRRADIANCE) and not weather:
        raise exceptions.ValidationError({"weather": [f"Required for source '{source}'."]})


def _scalar(weather, key: str) -> float | None:
    """``key`` (snake_case; the camelCase spelling is accepted too) of a weather object."""
    camel = key.split("_")[0] + "".join(part.title() for part in key.split("_")[1:])
    if isinstance(weather, dict) and key not in weather and camel in weather:
        key = camel
    if isinstance(weather, dict) and weather.get(key) is not None:
        try:
            value = float(weather[key])
        except (TypeError, ValueError):
            raise exceptions.ValidationError({"weather": [f"{key} must be a number."]}) from None
        if not np.isfinite(value) or not -60 <= value <= 100:
            raise exceptions.ValidationError({"weather": [f"{key} is out of range."]})
        return value
    return None


def _series_of(weather):
    """Posted series: the list itself, CSV text, or ``{"data": [...]}`` / ``{"csv": "..."}``."""
    if isinstance(weather, dict):
        return weather.get("data", weather.get("csv", weather.get("rows")))
    return weather


def model_weather(
    *, model: PlantModel, window: Window, source: str, weather=None, times: pd.DatetimeIndex | None = None
) -> ModelWeather:
    """Weather of ``source`` at the window's interval midpoints."""
    times = window.midpoints() if times is None else times
    span = (window.start, window.end)
    if source in (WeatherSource.CLEARSKY, WeatherSource.SMART_PERSISTENCE):
        return clearsky_weather(
            model.location, times, temp_air=_scalar(weather, "temp_air"), wind_speed=_scalar(weather, "wind_speed")
        )
    if source == WeatherSource.CLOUD_COVER:
        decomposition = weather.get("decomposition", "erbs") if isinstance(weather, dict) else "erbs"
        if decomposition not in ("erbs", "disc"):
            raise exceptions.ValidationError({"weather": ["decomposition must be 'erbs' or 'disc'."]})
        return cloud_cover_weather(model.location, times, _series_of(weather), window=span, decomposition=decomposition)
    if source == WeatherSource.IRRADIANCE:
        return irradiance_weather(model.location, times, _series_of(weather), window=span)
    if source == WeatherSource.TMY:
        if weather:  # an uploaded EPW/TMY3 of the site
            return uploaded_tmy_weather(model.location, times, weather)
        return tmy_weather(model.location, times)
    raise exceptions.ValidationError({"source": [f"Unknown weather source '{source}'."]})


def plant_calibration_current(*, plant: Plant, now: datetime | None = None) -> PlantCalibration | None:
    """The newest calibration of the plant if it was applied and is recent enough."""
    now = now or timezone.now()
    latest = PlantCalibration.objects.filter(plant=plant).order_by("-created_at", "-id").first()
    if latest is None or not latest.applied or latest.created_at < now - CALIBRATION_MAX_AGE:
        return None
    return latest


def _calibrate(
    power_kw: pd.Series, *, model: PlantModel, calibration: PlantCalibration | None
) -> tuple[pd.Series, dict]:
    if calibration is None:
        return power_kw, {"applied": False}
    corrected = calib.apply_factors(
        power_kw, factor=calibration.factor, hourly=calibration.hourly_factors, tz=ZoneInfo(str(model.location.tz))
    ).clip(upper=model.capacity_ac_kw)
    return corrected, {
        "applied": True,
        "calibrationId": calibration.pk,
        "factor": round(calibration.factor, 4),
        "hourly": bool(calibration.hourly_factors),
        "fittedAt": iso(calibration.created_at),
        "note": calibration.note,
    }


def _points(power_kw: pd.Series, window: Window) -> tuple[list[dict], dict]:
    step_hours = window.step.total_seconds() / 3600.0
    values = power_kw.to_numpy()
    peak = int(np.argmax(values)) if len(values) else 0
    summary = {
        "energy_kwh": round(float(values.sum() * step_hours), 3),
        "peak_kw": round(float(values[peak]), 3) if len(values) else 0.0,
        "peak_at": iso(power_kw.index[peak]) if len(values) and values[peak] > 0 else None,
        "timezone": str(window.tz),
        "resolution": window.resolution,
    }
    if window.resolution == Resolution.FIFTEEN_MINUTES:
        stamps = power_kw.index.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")  # one call, not one per point
        return [
            {"timestamp": t, "kw": round(float(v), 3)} for t, v in zip(stamps, values.round(3).tolist(), strict=True)
        ], summary
    labels = bucket_labels(power_kw.index, resolution=window.resolution, tz=window.tz)
    grouped = pd.Series(values, index=labels).groupby(level=0)
    energy = grouped.sum() * step_hours
    counts = grouped.count()
    points = []
    for label in energy.index:
        hours = counts[label] * step_hours
        point = {"timestamp": iso(label), "kw": round(float(energy[label] / hours), 3)}
        if window.resolution in (Resolution.DAY, Resolution.MONTH):
            point["kwh"] = round(float(energy[label]), 3)
        points.append(point)
    return points, summary


def _clear_power_kw(model: PlantModel, times: pd.DatetimeIndex) -> pd.Series:
    weather = clearsky_weather(model.location, times)
    return model.run(weather.frame, solar_position=weather.solar_position) / 1000.0


def clear_sky_index_latest(*, plant: Plant, model: PlantModel, at: datetime) -> float | None:
    """The measured clear-sky index of the plant's power: Σ actual / Σ modelled clear-sky power
    over the last hour (before ``at``, looking back up to a day) with the sun up. None without
    measured power."""
    end = at - timedelta(seconds=at.timestamp() % 300)
    actual = actual_power_kw(plant=plant, start=end - timedelta(days=1), end=end, step=FIVE_MINUTES)
    if actual.notna().sum() == 0:
        return None
    clear = pd.Series(_clear_power_kw(model, actual.index + FIVE_MINUTES / 2).to_numpy(), index=actual.index)
    usable = actual.notna() & (clear > 0.05 * model.capacity_ac_kw)
    if usable.sum() < 3:
        return None
    last = actual.index[usable.to_numpy()][-1]
    recent = usable & (actual.index > last - timedelta(hours=1))
    index = float(actual[recent].sum() / clear[recent].sum())
    return float(np.clip(index, 0.0, 1.5))


def forecast_compute(
    *,
    plant: Plant,
    horizon: str,
    source: str,
    start: date | None = None,
    weather=None,
    now: datetime | None = None,
    model: PlantModel | None = None,
    apply_calibration: bool = True,
) -> ForecastResult:
    """Compute (not store) a forecast of ``plant``. Raises 400s for bad parameters or weather
    and :class:`PlantConfigError` for an incomplete plant record."""
    forecast_params_check(horizon=horizon, source=source, weather=weather)
    now = now or timezone.now()
    model = model or plant_model_build(plant=plant)
    window = forecast_window(horizon=horizon, tz=ZoneInfo(plant.timezone), start=start, now=now)
    inputs = model_weather(model=model, window=window, source=source, weather=weather)
    power = model.run(inputs.frame, solar_position=inputs.solar_position) / 1000.0
    power = pd.Series(power.to_numpy(), index=window.interval_starts(), name="kw")
    calibration_info: dict = {"applied": False}
    if source == WeatherSource.SMART_PERSISTENCE:
        index = clear_sky_index_latest(plant=plant, model=model, at=now)
        if index is None:
            raise ApiError(
                "Smart persistence needs measured AC power from the last day with the sun up; the plant has none.",
                code="no_recent_actuals",
            )
        power = (power * index).clip(upper=model.capacity_ac_kw)
        calibration_info = {"applied": False, "clearSkyIndex": round(index, 4)}
    elif apply_calibration and source in CALIBRATED_SOURCES:
        power, calibration_info = _calibrate(
            power, model=model, calibration=plant_calibration_current(plant=plant, now=now)
        )
    points, summary = _points(power, window)
    config = model.snapshot() | {"source": source, "modelStepMinutes": int(window.step.total_seconds() // 60)}
    return ForecastResult(window, power, points, summary, config, calibration_info)


def forecast_generate(
    *,
    plant: Plant,
    horizon: str,
    source: str,
    start: date | None = None,
    weather=None,
    by=None,
    now: datetime | None = None,
    job=None,
) -> GenerationForecast:
    """Compute and store a forecast (what a forecast-run job does). With ``job``, a forecast
    that job already stored (a redelivery after a lost worker) is returned instead of a second."""
    if job is not None and (done := GenerationForecast.objects.filter(job=job).first()) is not None:
        return done
    result = forecast_compute(plant=plant, horizon=horizon, source=source, start=start, weather=weather, now=now)
    return GenerationForecast.objects.create(
        job=job,
        plant=plant,
        forecast_date=result.window.forecast_date,
        horizon=horizon,
        source=source,
        resolution=result.window.resolution,
        window_start=result.window.start,
        window_end=result.window.end,
        data_points=result.points,
        summary=result.summary,
        model_config=result.model_config,
        calibration=result.calibration,
        generated_by=by,
    )


STEP_OF_RESOLUTION = {Resolution.FIFTEEN_MINUTES: pd.Timedelta(minutes=15), Resolution.HOUR: pd.Timedelta(hours=1)}
SINGLE_POINT_REASON = (
    "A single point has no step to integrate over: give resolution (15min or hour) to count its energy."
)


def forecast_summary_of(points: list[dict], *, step: pd.Timedelta | None = None) -> dict:
    """Summary of externally computed points: energy as the integral of the series over its
    real steps — ``step`` when the poster gave a resolution, else each point's gap to the next
    (the last repeats the gap before it) — plus the peak and its time. A single point without a
    resolution has no step: its energy is null, with ``energy_reason`` saying so (it was once
    counted over two invented quarter hours: one 40 kW point gave 20 kWh)."""
    if not points:
        return {"energy_kwh": 0.0, "peak_kw": 0.0, "peak_at": None}
    times = pd.DatetimeIndex([p["timestamp"] for p in points])
    kw = np.array([float(p["kw"]) for p in points])
    peak = int(np.argmax(kw))
    summary = {"peak_kw": round(float(kw[peak]), 3), "peak_at": iso(times[peak]) if kw[peak] > 0 else None}
    if step is not None:
        hours = np.full(len(points), step / pd.Timedelta(hours=1))
    elif len(points) == 1:
        return {"energy_kwh": None, "energy_reason": SINGLE_POINT_REASON, **summary}
    else:
        gaps = np.diff(times.as_unit("ns").asi8) / 3.6e12
        hours = np.append(gaps, gaps[-1])
    return {"energy_kwh": round(float((kw * hours).sum()), 3), **summary}


def forecast_create(
    *, plant: Plant, by, forecast_date: date, horizon: str, data_points: list[dict], summary=None, resolution=None
):
    """Store an externally computed forecast (seed 000's POST). Points are sorted; the summary
    is computed when not given. ``resolution`` (15min / hour), when given, is every point's step;
    otherwise it is inferred from regular points (and a single point has none)."""
    points = sorted(data_points, key=lambda p: p["timestamp"])
    normalised = [{**p, "timestamp": iso(pd.Timestamp(p["timestamp"])), "kw": float(p["kw"])} for p in points]
    times = [pd.Timestamp(p["timestamp"]) for p in normalised]
    steps = {b - a for a, b in pairwise(times)}
    given_step = STEP_OF_RESOLUTION.get(resolution) if resolution else None
    if given_step is None and len(steps) == 1:
        # Regular 15-minute or hourly points can be scored against actuals like our own forecasts.
        only = steps.pop()
        resolution = next((r for r, step in STEP_OF_RESOLUTION.items() if step == only), "")
    step = given_step or (times[-1] - times[-2] if len(times) > 1 else None)
    return GenerationForecast.objects.create(
        plant=plant,
        forecast_date=forecast_date,
        horizon=horizon,
        source=WeatherSource.EXTERNAL,
        resolution=resolution or "",
        window_start=times[0].to_pydatetime() if times else None,
        window_end=(times[-1] + step).to_pydatetime() if times and step is not None else None,
        data_points=normalised,
        summary=summary or forecast_summary_of(normalised, step=given_step),
        generated_by=by,
    )


# --- expected power ---------------------------------------------------------------------------


def _aware_utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ApiError(f"{name} must be timezone-aware.", code="invalid_range")
    return moment.astimezone(UTC)


def expected_power_kw(*, plant: Plant, start: datetime, end: datetime) -> pd.Series | None:
    """Modelled AC power (kW) of ``plant`` over ``[start, end)`` from its measured weather,
    indexed by aware UTC bucket starts at the weather's resolution (5 minutes; hourly beyond
    ~17 days). NaN marks buckets without irradiance data. None when the plant has no weather
    station or no usable irradiance in the range. Raises :class:`PlantConfigError` (an
    ``ApiError``) for an incomplete plant record and ``ApiError`` for a bad range."""
    start, end = _aware_utc(start, "start"), _aware_utc(end, "end")
    # Weather first: a plant without a station (or data) answers None without its model built.
    weather = measured_weather(plant=plant, start=start, end=end)
    if weather is None or weather.empty:
        return None
    if weather[["irradiance_poa", "irradiance_ghi"]].notna().to_numpy().sum() == 0:
        return None
    model = plant_model_build(plant=plant)
    step = weather.index[1] - weather.index[0] if len(weather) > 1 else FIVE_MINUTES
    expected, _used = model_from_measured(model, weather, step)
    return expected


def expected_power_store(*, plant: Plant, start: datetime, end: datetime) -> int:
    """Expected and actual power of each 15-minute interval in ``[start, end)`` (snapped to
    quarter hours) into :class:`ExpectedPower`; returns the rows written (upserts: running it
    again over the same range updates, never duplicates)."""
    start = start - timedelta(seconds=start.timestamp() % 900)
    end = end - timedelta(seconds=end.timestamp() % 900)
    if end <= start:
        return 0
    expected = expected_power_kw(plant=plant, start=start, end=end)
    if expected is None:
        return 0
    actual = actual_power_kw(plant=plant, start=start, end=end, step=expected.index[1] - expected.index[0])
    quarters = pd.date_range(start, end, freq="15min", inclusive="left")
    expected_q = bucket_means(expected, quarters)
    actual_q = bucket_means(actual.reindex(expected.index), quarters)
    rows = [
        ExpectedPower(
            plant=plant,
            ts=ts.to_pydatetime(),
            expected_kw=round(float(e), 4),
            actual_kw=None if np.isnan(a) else round(float(a), 4),
        )
        for ts, e, a in zip(quarters, expected_q.to_numpy(), actual_q.to_numpy(), strict=True)
        if not np.isnan(e)
    ]
    ExpectedPower.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["plant", "ts"],
        update_fields=["expected_kw", "actual_kw", "updated_at"],
    )
    return len(rows)


# --- accuracy ---------------------------------------------------------------------------------


def _forecast_series(forecast: GenerationForecast) -> pd.Series:
    points = forecast.data_points or []
    index = pd.DatetimeIndex([p["timestamp"] for p in points]).tz_convert("UTC").as_unit("ns")
    return pd.Series([float(p["kw"]) for p in points], index=index)


def forecast_accuracy_compute(*, forecast: GenerationForecast, now: datetime | None = None) -> ForecastAccuracy | None:
    """Accuracy of a finished forecast against the measured AC power (15-minute and hourly
    forecasts). None while the window is still open or without actuals. Skill is against smart
    persistence issued at the same time (the forecast's creation, or its window start if it was
    made afterwards)."""
    now = now or timezone.now()
    if forecast.window_end is None or forecast.window_end > now or forecast.resolution not in ACCURACY_RESOLUTIONS:
        return None
    plant = forecast.plant
    predicted = _forecast_series(forecast)
    if predicted.empty:
        return None
    actual_5 = actual_power_kw(plant=plant, start=forecast.window_start, end=forecast.window_end, step=FIVE_MINUTES)
    actual = bucket_means(actual_5, predicted.index)
    if actual.notna().sum() == 0:
        return None
    model = plant_model_build(plant=plant)
    issued = min(forecast.created_at, forecast.window_start)
    index = clear_sky_index_latest(plant=plant, model=model, at=issued)
    reference = None
    if index is not None:
        tz = ZoneInfo(plant.timezone)
        window = Window(
            forecast.horizon,
            forecast.window_start,
            forecast.window_end,
            forecast.forecast_date,
            QUARTER,
            forecast.resolution,
            tz,
        )
        clear = _clear_power_kw(model, window.midpoints())
        clear = pd.Series(clear.to_numpy(), index=window.interval_starts())
        reference = bucket_means(clear * index, predicted.index)
    step_hours = 0.25 if forecast.resolution == Resolution.FIFTEEN_MINUTES else 1.0
    metrics = accuracy_metrics(
        forecast_kw=predicted,
        actual_kw=actual,
        capacity_kw=plant.total_power_output_kw,
        step_hours=step_hours,
        reference_kw=reference,
    )
    if metrics is None:
        return None
    accuracy, _ = ForecastAccuracy.objects.update_or_create(forecast=forecast, defaults=vars(metrics))
    return accuracy


# --- calibration ------------------------------------------------------------------------------


def plant_calibration_fit(*, plant: Plant, end: datetime | None = None, days: int = 30) -> PlantCalibration:
    """Fit the plant's correction from the last ``days`` days (see
    :mod:`forecasting.calibration`) and record it, applied or not."""
    end = end or timezone.now()
    end = end - timedelta(seconds=end.timestamp() % 300)
    start = end - timedelta(days=days)
    model = plant_model_build(plant=plant)
    actual = actual_power_kw(plant=plant, start=start, end=end, step=FIVE_MINUTES)
    mids = actual.index + FIVE_MINUTES / 2
    clear_weather = clearsky_weather(model.location, mids)
    modelled = pd.Series(
        (model.run(clear_weather.frame, solar_position=clear_weather.solar_position) / 1000.0).to_numpy(),
        index=actual.index,
    )
    weather = measured_weather(plant=plant, start=start, end=end, step=FIVE_MINUTES)
    if weather is not None and weather["irradiance_ghi"].notna().sum() > 0:
        measured = weather["irradiance_ghi"].reindex(actual.index)
        reference = pd.Series(clear_weather.frame["ghi"].to_numpy(), index=actual.index)
    else:  # no irradiance sensor: the shape of the power itself, on a W/m²-like scale
        scale = 1000.0 / max(model.capacity_dc_kw, 1e-9)
        measured, reference = actual * scale, modelled * scale
    clear = calib.clear_mask(measured, reference, FIVE_MINUTES)
    fit = calib.calibration_fit(
        actual_kw=actual,
        modelled_kw=modelled,
        clear=clear,
        capacity_ac_kw=model.capacity_ac_kw,
        step=FIVE_MINUTES,
        tz=ZoneInfo(plant.timezone),
    )
    with transaction.atomic():
        return PlantCalibration.objects.create(
            plant=plant,
            factor=fit.factor,
            hourly_factors=fit.hourly_factors,
            window_start=start,
            window_end=end,
            clear_points=fit.clear_points,
            fit_days=fit.fit_days,
            holdout_days=fit.holdout_days,
            rmse_before_kw=fit.rmse_before_kw,
            rmse_after_kw=fit.rmse_after_kw,
            applied=fit.applied,
            note=fit.note[:255],
        )
