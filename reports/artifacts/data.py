"""What a report shows, collected once for every format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from plants.models import Plant
from reports.choices import ReportSection
from reports.kpis import kpi_inputs_read, plant_kpis
from reports.selectors import report_alarm_rows

SCATTER_MAX = 4000


@dataclass
class ReportData:
    plant: Plant
    title: str
    start: date
    end: date
    kpis: dict
    alarms: list[dict]
    scatter: tuple[np.ndarray, np.ndarray]  # POA (W/m²), plant AC power (kW), daylight slots
    sections: list[str] = field(default_factory=lambda: list(ReportSection.values))


def report_data_collect(*, plant: Plant, start: date, end: date, title: str, sections: list[str] | None = None):
    inputs = kpi_inputs_read(plant=plant, start=start, end=end)
    kpis = plant_kpis(plant=plant, start=start, end=end, inputs=inputs)
    both = ~np.isnan(inputs.poa) & ~np.isnan(inputs.power_kw) & inputs.daylight
    poa, power = inputs.poa[both], inputs.power_kw[both]
    if len(poa) > SCATTER_MAX:  # an even thinning keeps the cloud's shape
        keep = np.linspace(0, len(poa) - 1, SCATTER_MAX).astype(int)
        poa, power = poa[keep], power[keep]
    alarms = report_alarm_rows(plant=plant, start=kpis["total"]["start"], end=kpis["total"]["end"])
    return ReportData(
        plant=plant,
        title=title,
        start=start,
        end=end,
        kpis=kpis,
        alarms=alarms,
        scatter=(poa, power),
        sections=list(sections or ReportSection.values),
    )
