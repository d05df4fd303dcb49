"""The beat entries' services: evening day-ahead forecasts, expected power, pending accuracy,
calibration refresh — per plant, idempotent, one bad plant never stops the others."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from forecasting.models import ExpectedPower, ForecastAccuracy, GenerationForecast, PlantCalibration
from forecasting.scheduled import (
    expected_power_refresh,
    forecast_accuracy_pending,
    forecasts_day_ahead_due,
    plant_calibrations_refresh,
)
from forecasting.tasks import day_ahead_forecasts

from .helpers import configured_plant, ingest

EVENING = datetime(2026, 6, 21, 1, 30, tzinfo=UTC)  # 18:30 in Los Angeles (PDT), 20 June


def test_day_ahead_forecasts_once_per_evening_per_plant(db):
    good = configured_plant(code="EVE")
    elsewhere = configured_plant(code="BERLIN", timezone="Europe/Berlin")
    broken = configured_plant(code="BROKEN", surface_tilt=None)
    made = forecasts_day_ahead_due(now=EVENING)
    assert len(made) == 1
    forecast = GenerationForecast.objects.get(pk=made[0])
    assert (forecast.plant, forecast.forecast_date, forecast.horizon) == (good, date(2026, 6, 21), "day_ahead")
    assert forecasts_day_ahead_due(now=EVENING + timedelta(minutes=20)) == []  # already there
    assert not GenerationForecast.objects.filter(plant__in=[elsewhere, broken]).exists()


def test_task_runs_the_service(db):
    configured_plant(code="TASK")
    assert day_ahead_forecasts.apply().get() in (0, 1)  # whatever the hour is now: it runs


def test_expected_power_refresh_and_accuracy_pending(db):
    plant = configured_plant(code="REF")
    start = datetime(2026, 6, 21, 18, 0, tzinfo=UTC)
    times = pd.date_range(start, start + timedelta(hours=2), freq="5min", inclusive="left")
    ingest(
        plant,
        {
            "REF-WMS": [(ts, {"irradiance_poa": 800.0, "module_temp": 40.0}) for ts in times],
            "REF-INV-1": [(ts, {"ac_power": 30.0}) for ts in times],
        },
    )
    now = start + timedelta(hours=2)
    assert expected_power_refresh(now=now) == 4
    assert ExpectedPower.objects.filter(plant=plant, actual_kw=30.0).count() == 4

    forecast = GenerationForecast.objects.create(
        plant=plant,
        forecast_date=date(2026, 6, 21),
        horizon="intraday",
        resolution="15min",
        window_start=start,
        window_end=now,
        data_points=[
            {"timestamp": ts.isoformat().replace("+00:00", "Z"), "kw": 33.0}
            for ts in pd.date_range(start, now, freq="15min", inclusive="left")
        ],
    )
    assert forecast_accuracy_pending(now=now) == 1
    assert ForecastAccuracy.objects.get(forecast=forecast).bias_kw == 3.0
    assert forecast_accuracy_pending(now=now) == 0  # done already


def test_calibrations_refresh_skips_broken_plants(db):
    configured_plant(code="CAL-OK")
    configured_plant(code="CAL-BAD", surface_tilt=None)
    assert plant_calibrations_refresh(now=datetime(2026, 6, 25, tzinfo=UTC)) == 1
    assert PlantCalibration.objects.count() == 1
