"""Accuracy metrics on constructed cases with known answers, and self-calibration of a plant
whose output is deliberately 15 % below its model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from forecasting.accuracy import accuracy_metrics, bucket_means
from forecasting.choices import Horizon, Resolution, WeatherSource
from forecasting.models import GenerationForecast, PlantCalibration
from forecasting.pvmodel import plant_model_build
from forecasting.services import (
    clear_sky_index_latest,
    forecast_accuracy_compute,
    forecast_compute,
    plant_calibration_fit,
)
from forecasting.weather import clearsky_weather
from solarhub.testing.personas import api_client_for

from .helpers import configured_plant, ingest

DAY_START = datetime(2026, 6, 21, 7, 0, tzinfo=UTC)  # local midnight (PDT)
FIVE = timedelta(minutes=5)


def test_metrics_known_answer():
    index = pd.date_range("2026-06-21T07:00Z", periods=8, freq="15min")
    forecast = pd.Series([10.0] * 8, index=index)
    actual = pd.Series([8.0] * 4 + [12.0] * 4, index=index)
    reference = pd.Series([14.0] * 4 + [8.0] * 4, index=index)  # errors +6/-4 → RMSE sqrt(26)
    metrics = accuracy_metrics(
        forecast_kw=forecast, actual_kw=actual, capacity_kw=100.0, step_hours=0.25, reference_kw=reference
    )
    assert metrics.points == 8
    assert metrics.mae_kw == pytest.approx(2.0)
    assert metrics.rmse_kw == pytest.approx(2.0)
    assert metrics.bias_kw == pytest.approx(0.0)
    assert metrics.nmae_pct == pytest.approx(2.0)
    assert metrics.reference_rmse_kw == pytest.approx(np.sqrt(26.0))
    assert metrics.skill == pytest.approx(1 - 2.0 / np.sqrt(26.0))
    assert metrics.energy_forecast_kwh == pytest.approx(20.0)
    assert metrics.energy_actual_kwh == pytest.approx(20.0)


def test_metrics_skip_night_and_missing_actuals():
    index = pd.date_range("2026-06-21T07:00Z", periods=4, freq="15min")
    metrics = accuracy_metrics(
        forecast_kw=pd.Series([0.0, 5.0, 5.0, 5.0], index=index),
        actual_kw=pd.Series([0.0, 4.0, np.nan, 7.0], index=index),
        capacity_kw=10.0,
        step_hours=0.25,
    )
    assert metrics.points == 2
    assert metrics.bias_kw == pytest.approx(-0.5)
    assert metrics.skill is None
    night = pd.Series([0.0], index=index[:1])
    assert accuracy_metrics(forecast_kw=night, actual_kw=night, capacity_kw=1, step_hours=1) is None


def test_bucket_means_needs_half_coverage():
    fine = pd.Series(
        [1.0, 2.0, 3.0, np.nan, np.nan, 6.0], index=pd.date_range("2026-01-01", periods=6, freq="5min", tz="UTC")
    )
    starts = pd.date_range("2026-01-01", periods=2, freq="15min", tz="UTC")
    means = bucket_means(fine, starts, min_coverage=0.5)
    assert means.iloc[0] == pytest.approx(2.0)
    assert np.isnan(means.iloc[1])  # one of three buckets: under half


@pytest.fixture
def plant_with_actuals(db, customer, installer):
    """Actuals: 8 kW for the first half of 21 June (local), 12 kW for the second half."""
    plant = configured_plant(code="ACC", owner=customer, installer=installer)
    times = pd.date_range(DAY_START, DAY_START + timedelta(days=1), freq="5min", inclusive="left")
    ingest(plant, {"ACC-INV-1": [(ts, {"ac_power": 8.0 if i < 144 else 12.0}) for i, ts in enumerate(times)]})
    return plant


def test_forecast_accuracy_on_a_constructed_day(plant_with_actuals, customer):
    plant = plant_with_actuals
    starts = pd.date_range(DAY_START, DAY_START + timedelta(days=1), freq="15min", inclusive="left")
    forecast = GenerationForecast.objects.create(
        plant=plant,
        forecast_date=date(2026, 6, 21),
        horizon=Horizon.DAY_AHEAD,
        source=WeatherSource.EXTERNAL,
        resolution=Resolution.FIFTEEN_MINUTES,
        window_start=DAY_START,
        window_end=DAY_START + timedelta(days=1),
        data_points=[{"timestamp": ts.isoformat().replace("+00:00", "Z"), "kw": 10.0} for ts in starts],
    )
    accuracy = forecast_accuracy_compute(forecast=forecast)
    assert accuracy.points == 96
    assert accuracy.mae_kw == pytest.approx(2.0)
    assert accuracy.rmse_kw == pytest.approx(2.0)
    assert accuracy.bias_kw == pytest.approx(0.0, abs=1e-9)
    assert accuracy.nmae_pct == pytest.approx(100 * 2.0 / plant.total_power_output_kw)
    assert accuracy.energy_actual_kwh == pytest.approx(240.0)
    # not before the window has ended
    open_forecast = GenerationForecast.objects.create(
        plant=plant, forecast_date=date(2026, 6, 21), horizon=Horizon.DAY_AHEAD, resolution="15min",
        window_start=DAY_START, window_end=DAY_START + timedelta(days=1), data_points=[],
    )  # fmt: skip
    assert forecast_accuracy_compute(forecast=open_forecast, now=DAY_START) is None

    response = api_client_for(customer).get(f"/api/predicted-generation/accuracy?plantId={plant.id}&horizon=day_ahead")
    assert response.status_code == 200
    body = response.json()
    assert [row["forecastId"] for row in body["results"]] == [forecast.id]
    assert body["results"][0]["maeKw"] == pytest.approx(2.0)
    assert body["overall"]["rmseKw"] == pytest.approx(2.0)


def _clear_model_kw(plant, times: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    model = plant_model_build(plant=plant)
    weather = clearsky_weather(model.location, times + FIVE / 2)
    ac = model.run(weather.frame, solar_position=weather.solar_position).to_numpy() / 1000.0
    return ac, weather.frame["ghi"].to_numpy()


def _biased_history(plant, *, days: int, bias: float, end: datetime) -> pd.DatetimeIndex:
    times = pd.date_range(end - timedelta(days=days), end, freq="5min", inclusive="left")
    ac, ghi = _clear_model_kw(plant, times)
    code = plant.plant_code
    ingest(
        plant,
        {
            f"{code}-WMS": [
                (ts, {"irradiance_ghi": g, "ambient_temp": 20.0}) for ts, g in zip(times, ghi, strict=True)
            ],
            f"{code}-INV-1": [(ts, {"ac_power": bias * a}) for ts, a in zip(times, ac, strict=True)],
        },
    )
    return times


def test_smart_persistence_carries_the_latest_clear_sky_index(db):
    plant = configured_plant(code="SP")
    end = datetime(2026, 6, 21, 19, 0, tzinfo=UTC)  # local noon
    _biased_history(plant, days=1, bias=0.6, end=end)
    model = plant_model_build(plant=plant)
    assert clear_sky_index_latest(plant=plant, model=model, at=end) == pytest.approx(0.6, abs=0.01)
    persistence = forecast_compute(
        plant=plant, horizon=Horizon.INTRADAY, source=WeatherSource.SMART_PERSISTENCE, now=end
    )
    clear = forecast_compute(plant=plant, horizon=Horizon.INTRADAY, source=WeatherSource.CLEARSKY, now=end)
    assert len(persistence.points) == 24  # 6 h of quarter hours
    assert persistence.summary["energy_kwh"] == pytest.approx(0.6 * clear.summary["energy_kwh"], rel=0.02)
    assert persistence.calibration["clearSkyIndex"] == pytest.approx(0.6, abs=0.01)


def test_calibration_corrects_a_biased_plant_and_says_so(db):
    plant = configured_plant(code="BIAS")
    end = datetime(2026, 6, 25, 7, 0, tzinfo=UTC)
    _biased_history(plant, days=10, bias=0.85, end=end)
    before = forecast_compute(
        plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, start=date(2026, 6, 24)
    )

    calibration = plant_calibration_fit(plant=plant, end=end)
    assert calibration.applied, calibration.note
    assert calibration.factor == pytest.approx(0.85, abs=0.01)
    assert calibration.rmse_after_kw < 0.2 * calibration.rmse_before_kw
    assert calibration.fit_days + calibration.holdout_days == 10

    after = forecast_compute(
        plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, start=date(2026, 6, 24)
    )
    assert after.calibration["applied"] is True
    assert after.calibration["calibrationId"] == calibration.id
    # against the plant's actual output of that day, the calibrated forecast is far closer
    times = pd.date_range(datetime(2026, 6, 24, 7, tzinfo=UTC), end, freq="5min", inclusive="left")
    truth = bucket_means(pd.Series(0.85 * _clear_model_kw(plant, times)[0], index=times), before.power_kw.index)
    error_before = float(np.abs(before.power_kw - truth).mean())
    error_after = float(np.abs(after.power_kw - truth).mean())
    assert error_after < 0.2 * error_before


def test_calibration_of_an_unbiased_plant_is_not_applied(db):
    plant = configured_plant(code="TRUE")
    end = datetime(2026, 6, 25, 7, 0, tzinfo=UTC)
    _biased_history(plant, days=5, bias=1.0, end=end)
    calibration = plant_calibration_fit(plant=plant, end=end)
    assert not calibration.applied
    assert calibration.factor == pytest.approx(1.0, abs=0.01)
    result = forecast_compute(
        plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, start=date(2026, 6, 24)
    )
    assert result.calibration == {"applied": False}
    assert PlantCalibration.objects.filter(plant=plant).count() == 1


def test_calibration_without_data_is_recorded_not_applied(db):
    plant = configured_plant(code="EMPTY")
    calibration = plant_calibration_fit(plant=plant, end=datetime(2026, 6, 25, 7, 0, tzinfo=UTC))
    assert not calibration.applied
    assert calibration.note


def test_calibration_learns_an_hour_of_day_shape(db):
    """Morning shade: the plant gives 60 % before 10:00 local, 100 % after. One factor cannot
    fit both; the per-hour shape can, and wins on the held-out days."""
    plant = configured_plant(code="SHADE")
    end = datetime(2026, 6, 25, 7, 0, tzinfo=UTC)
    times = pd.date_range(end - timedelta(days=8), end, freq="5min", inclusive="left")
    ac, ghi = _clear_model_kw(plant, times)
    local_hours = times.tz_convert("America/Los_Angeles").hour
    shade = np.where(local_hours < 10, 0.6, 1.0)
    ingest(
        plant,
        {
            "SHADE-WMS": [(ts, {"irradiance_ghi": g}) for ts, g in zip(times, ghi, strict=True)],
            "SHADE-INV-1": [(ts, {"ac_power": s * a}) for ts, s, a in zip(times, shade, ac, strict=True)],
        },
    )
    calibration = plant_calibration_fit(plant=plant, end=end)
    assert calibration.applied, calibration.note
    assert calibration.hourly_factors
    assert calibration.hourly_factors["8"] == pytest.approx(0.6, abs=0.01)
    assert calibration.hourly_factors["13"] == pytest.approx(1.0, abs=0.01)
