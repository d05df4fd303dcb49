"""Forecasts for the demo plants (called by ``demo.seed`` at the end of ``seed_demo``).

Idempotent: a forecast of the same plant, horizon, source and date made by the system is not
made twice. Tomorrow's day-ahead and the coming week (clear sky), the next 12 months (TMY), and
day-ahead forecasts of the last ``history_days`` days whose accuracy is computed against the
simulated telemetry (on PostgreSQL; SQLite's read path recomputes unfolded rollups slowly, and
``make run`` must stay fast — the hourly beat task fills them in there).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from plants.models import Plant
from solarhub.api.exceptions import ApiError

from .choices import Horizon, WeatherSource
from .models import GenerationForecast
from .services import forecast_accuracy_compute, forecast_generate

logger = logging.getLogger("solarhub.forecasting")


def _ensure(plant: Plant, horizon: str, source: str, start: date | None, now: datetime) -> GenerationForecast | None:
    existing = GenerationForecast.objects.filter(plant=plant, horizon=horizon, source=source, generated_by__isnull=True)
    if start is not None and existing.filter(forecast_date=start).exists():
        return None
    try:
        return forecast_generate(plant=plant, horizon=horizon, source=source, start=start, now=now)
    except ApiError as exc:
        logger.warning("Demo forecast %s/%s of plant %s skipped: %s", horizon, source, plant.pk, exc)
        return None


def demo_forecasts_seed(
    *, plants: list[Plant], now: datetime | None = None, history_days: int = 2, accuracy: bool = True
) -> list[GenerationForecast]:
    """Create the missing demo forecasts (see the module docstring); returns the new ones."""
    now = now or timezone.now()
    made = []
    for plant in plants:
        today = now.astimezone(ZoneInfo(plant.timezone)).date()
        tomorrow = today + timedelta(days=1)
        first_of_next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        wanted = [
            (Horizon.DAY_AHEAD, WeatherSource.CLEARSKY, tomorrow),
            (Horizon.WEEK_AHEAD, WeatherSource.CLEARSKY, tomorrow),
            (Horizon.YEAR, WeatherSource.TMY, first_of_next_month),
        ]
        wanted += [
            (Horizon.DAY_AHEAD, WeatherSource.CLEARSKY, today - timedelta(days=n)) for n in range(1, history_days + 1)
        ]
        for horizon, source, start in wanted:
            forecast = _ensure(plant, horizon, source, start, now)
            if forecast is None:
                continue
            made.append(forecast)
            if accuracy and forecast.window_end <= now:
                forecast_accuracy_compute(forecast=forecast, now=now)
    return made
