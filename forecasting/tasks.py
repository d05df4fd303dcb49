"""Celery tasks of the forecasting app: thin, call a service (see ``scheduled.py``).

Forecast runs requested through the API are generic jobs (``forecasting.jobs``), run by
``solarhub.run_job``; these are the beat entries (``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="forecasting.day_ahead_forecasts")
def day_ahead_forecasts() -> int:
    """Hourly: tomorrow's day-ahead clear-sky forecast for plants where it is now evening."""
    from forecasting.scheduled import forecasts_day_ahead_due

    return len(forecasts_day_ahead_due())


@shared_task(name="forecasting.expected_power")
def expected_power() -> int:
    """Every 15 minutes: expected vs actual power from measured weather."""
    from forecasting.scheduled import expected_power_refresh

    return expected_power_refresh()


@shared_task(name="forecasting.accuracy")
def accuracy() -> int:
    """Hourly: accuracy of forecasts whose window has ended."""
    from forecasting.scheduled import forecast_accuracy_pending

    return forecast_accuracy_pending()


@shared_task(name="forecasting.calibrate")
def calibrate() -> int:
    """Daily: refit each plant's self-calibration from its last 30 days."""
    from forecasting.scheduled import plant_calibrations_refresh

    return plant_calibrations_refresh()
