"""The reports' loss waterfall gains its shading step from the plant's latest completed shadow
run (pro-rated from the run's monthly loss), through ``reports.selectors.shading_loss_kwh``."""

from __future__ import annotations

from datetime import date

import pytest

from reports.kpis import plant_kpis
from reports.tests.helpers import constructed_day, kpi_plant
from shadow.models import ShadowRun
from shadow.services import shadow_run_complete

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 10)


def test_the_waterfall_has_a_shading_step_from_the_latest_completed_run():
    plant = kpi_plant(code="SHADE-1")
    constructed_day(plant, DAY)
    steps = [step["label"] for step in plant_kpis(plant=plant, start=DAY, end=DAY)["losses"]["steps"]]
    assert "Shading" not in steps
    old = ShadowRun.objects.create(plant=plant)
    shadow_run_complete(run=old, result_summary={"monthly": [{"month": "2026-06", "loss_kwh": 300.0}]})
    new = ShadowRun.objects.create(plant=plant)
    shadow_run_complete(run=new, result_summary={"monthly": [{"month": "2026-06", "loss_kwh": 60.0}]})
    losses = plant_kpis(plant=plant, start=DAY, end=DAY)["losses"]
    shading = [step for step in losses["steps"] if step["label"] == "Shading"]
    assert shading == [{"label": "Shading", "kwh": -2.0}]  # 60 kWh / 30 days, the newer run
    assert losses["shading_kwh"] == pytest.approx(2.0)
