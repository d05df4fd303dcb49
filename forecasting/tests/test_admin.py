"""The forecasting admin pages open for platform admins and are read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from forecasting.models import GenerationForecast

from .helpers import configured_plant


@pytest.mark.parametrize("model", ["generationforecast", "forecastaccuracy", "plantcalibration", "expectedpower"])
def test_admin_changelists_open_for_platform_admins(db, plant_admin, model):
    plant = configured_plant(code="ADM")
    GenerationForecast.objects.create(plant=plant, forecast_date="2026-06-21", horizon="day_ahead")
    client = Client(SERVER_NAME="localhost")
    client.force_login(plant_admin)
    assert client.get(f"/admin/forecasting/{model}/").status_code == 200
    assert client.get(f"/admin/forecasting/{model}/add/").status_code == 403
