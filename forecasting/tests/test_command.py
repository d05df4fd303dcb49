"""``manage.py forecast``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forecasting.models import GenerationForecast, PlantCalibration

from .helpers import configured_plant


def test_forecast_command_stores_a_forecast(db):
    plant = configured_plant(code="CMD")
    out = StringIO()
    call_command("forecast", "--plant", "CMD", "--start", "2026-06-21", "--calibrate", "--accuracy", stdout=out)
    forecast = GenerationForecast.objects.get(plant=plant)
    assert len(forecast.data_points) == 96
    assert f"forecast {forecast.pk}: CMD day_ahead (clearsky)" in out.getvalue()
    assert PlantCalibration.objects.filter(plant=plant).count() == 1


def test_forecast_command_reports_bad_input(db):
    configured_plant(code="CMD2", surface_tilt=None)
    with pytest.raises(CommandError, match="surface_tilt"):
        call_command("forecast", "--plant", "CMD2", stdout=StringIO())
    with pytest.raises(CommandError, match="No plant"):
        call_command("forecast", "--plant", "NOPE", stdout=StringIO())
    with pytest.raises(CommandError, match="--start"):
        call_command("forecast", "--plant", "CMD2", "--start", "soon", stdout=StringIO())
