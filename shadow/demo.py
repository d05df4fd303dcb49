"""A shadow analysis of the demo rooftop for ``seed_demo``: this year, hourly, clear sky, on the
rooftop's twin (parapet and chimney). Computed in-process (a couple of seconds for 240 panels) so
the demo has a loss map, a month x hour matrix and the reports' shading step from the start.
Idempotent: a plant with a completed run keeps it."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from plants.models import Plant
from twins.demo import ROOFTOP
from twins.models import DigitalTwin

from .choices import ShadowRunStatus
from .models import ShadowRun
from .services import default_period, shadow_parameters_check, shadow_run_execute

logger = logging.getLogger("solarhub.shadow")


def demo_shadow_seed(*, by=None) -> ShadowRun | None:
    plant = Plant.objects.filter(plant_code=ROOFTOP).first()
    twin = DigitalTwin.objects.filter(plant=plant).first() if plant else None
    if twin is None:
        return None
    existing = ShadowRun.objects.filter(plant=plant, status=ShadowRunStatus.COMPLETED).first()
    if existing is not None:
        return existing
    start, end = default_period(tz=ZoneInfo(plant.timezone))
    parameters = shadow_parameters_check(
        plant=plant, twin_data=twin.twin_data, parameters={"start": start, "end": end, "step_minutes": 60}
    )
    run = ShadowRun.objects.create(
        plant=plant, twin=twin, twin_version=twin.version, requested_by=by, parameters=parameters
    )
    outcome = shadow_run_execute(run_id=run.pk)
    logger.info("Demo shadow analysis of %s: %s", plant.plant_code, outcome)
    run.refresh_from_db()
    return run
