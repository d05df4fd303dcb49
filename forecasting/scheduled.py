"""What the beat schedule runs (services over many plants; the tasks in ``tasks.py`` only call
these). Each loop isolates plants: one plant's bad configuration or missing data is logged and
skipped, never stops the others. All are idempotent: running twice changes nothing more."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from plants.choices import DeviceType
from plants.models import Device, Plant
from solarhub.api.exceptions import ApiError

from .choices import Horizon, WeatherSource
from .models import ForecastAccuracy, GenerationForecast
from .services import (
    ACCURACY_RESOLUTIONS,
    expected_power_store,
    forecast_accuracy_compute,
    forecast_generate,
    plant_calibration_fit,
)

logger = logging.getLogger("solarhub.forecasting")
EXPECTED_POWER_LOOKBACK = timedelta(hours=1)  # late readings of the last hour are picked up
ACCURACY_LOOKBACK = timedelta(days=3)


def _with_device(device_type: str):
    return Plant.objects.filter(Exists(Device.objects.filter(plant=OuterRef("pk"), type=device_type, operational=True)))


def forecasts_day_ahead_due(*, now: datetime | None = None) -> list[int]:
    """Every plant whose local time is in the evening hour (18 h, or
    ``settings.FORECAST_DAY_AHEAD_LOCAL_HOUR``) gets tomorrow's day-ahead clear-sky forecast,
    once (an hourly beat run)."""
    now = now or timezone.now()
    made = []
    for plant in Plant.objects.order_by("id"):
        local = now.astimezone(ZoneInfo(plant.timezone))
        if local.hour != settings.FORECAST_DAY_AHEAD_LOCAL_HOUR:
            continue
        tomorrow = local.date() + timedelta(days=1)
        try:
            with transaction.atomic():
                # The plant row lock serialises overlapping beat runs: check-then-create is safe.
                Plant.objects.select_for_update().filter(pk=plant.pk).first()
                exists = GenerationForecast.objects.filter(
                    plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, forecast_date=tomorrow,
                    generated_by__isnull=True,
                ).exists()  # fmt: skip
                if exists:
                    continue
                forecast = forecast_generate(
                    plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, start=tomorrow, now=now
                )
        except ApiError as exc:
            logger.warning("No day-ahead forecast for plant %s: %s", plant.pk, exc)
            continue
        made.append(forecast.pk)
    return made


def expected_power_refresh(*, now: datetime | None = None) -> int:
    """Expected vs actual power of the last hour's quarter hours, for every plant with a
    weather station (every 15 minutes)."""
    now = now or timezone.now()
    written = 0
    for plant in _with_device(DeviceType.WEATHER_STATION).order_by("id"):
        try:
            written += expected_power_store(plant=plant, start=now - EXPECTED_POWER_LOOKBACK, end=now)
        except ApiError as exc:
            logger.warning("No expected power for plant %s: %s", plant.pk, exc)
    return written


def forecast_accuracy_pending(*, now: datetime | None = None, limit: int = 500) -> int:
    """Accuracy of recently finished forecasts that have none yet (hourly)."""
    now = now or timezone.now()
    pending = (
        GenerationForecast.objects.filter(
            window_end__lte=now, window_end__gte=now - ACCURACY_LOOKBACK, resolution__in=ACCURACY_RESOLUTIONS
        )
        .exclude(Exists(ForecastAccuracy.objects.filter(forecast=OuterRef("pk"))))
        .select_related("plant")
        .order_by("window_end")[:limit]
    )
    done = 0
    for forecast in pending:
        try:
            done += forecast_accuracy_compute(forecast=forecast, now=now) is not None
        except ApiError as exc:
            logger.warning("No accuracy for forecast %s: %s", forecast.pk, exc)
    return done


def plant_calibrations_refresh(*, now: datetime | None = None) -> int:
    """Refit every plant with inverters from its last 30 days (daily)."""
    fitted = 0
    for plant in _with_device(DeviceType.INVERTER).order_by("id"):
        try:
            plant_calibration_fit(plant=plant, end=now)
        except ApiError as exc:
            logger.warning("No calibration for plant %s: %s", plant.pk, exc)
            continue
        fitted += 1
    return fitted
