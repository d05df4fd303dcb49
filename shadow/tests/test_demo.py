"""``seed_demo`` runs one shadow analysis of the demo rooftop: its chimney shades panels of the
front row on winter mornings, and the run feeds the reports' shading loss."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.conf import settings

from demo.seed import demo_seed
from plants.models import Plant
from reports.selectors import shading_loss_kwh
from shadow.demo import demo_shadow_seed
from shadow.models import ShadowRun
from twins.demo import ROOFTOP

pytestmark = pytest.mark.django_db


def test_seed_demo_analyses_the_rooftop_and_the_chimney_shades_winter_mornings():
    demo_seed()
    plant = Plant.objects.get(plant_code=ROOFTOP)
    run = ShadowRun.objects.get(plant=plant)
    assert run.status == "completed", run.error
    summary = run.result_summary
    assert summary["annual"]["loss_kwh"] > 0 and len(summary["monthly"]) == 12
    data = np.load(Path(settings.MEDIA_ROOT) / run.artifacts["npz"])
    local = pd.to_datetime(data["times_utc_ns"], unit="ns", utc=True).tz_convert(plant.timezone)
    obstacle = data["obstacle_fraction_u8"] > 0  # (steps, panels)
    # from 9 to 11 the 1 m parapet's shadow stops short of the panels; the 2.5 m chimney's does not
    winter_morning = np.isin(local.month, [11, 12, 1]) & (local.hour >= 9) & (local.hour < 11)
    summer_noon = np.isin(local.month, [6, 7]) & (local.hour >= 11) & (local.hour <= 13)
    by_chimney = obstacle[winter_morning].any(axis=0)
    assert 1 <= by_chimney.sum() <= 12, by_chimney.sum()  # a few panels, not the roof
    assert not obstacle[summer_noon][:, by_chimney].any()
    # idempotent, and the reports read it
    assert demo_shadow_seed().pk == run.pk
    january = shading_loss_kwh(
        plant=plant, start=datetime(2026, 1, 1, 8, tzinfo=UTC), end=datetime(2026, 2, 1, 8, tzinfo=UTC)
    )
    assert january == pytest.approx(summary["monthly"][0]["loss_kwh"], rel=1e-3)
