"""Faults injected into a simulated range, so alarms, availability KPIs and data-quality checks
have something to find:

* **Outage** — one inverter trips on a ground fault (SunSpec ``St`` 7 FAULT, ``Evt1`` bit 0
  GROUND_FAULT) from 10:30 to 13:00 plant-local time on the middle day of the range: zero AC and
  DC power, strings at open-circuit voltage, zero string currents. From 11:15 to 12:00 its logger
  loses contact as well — no readings at all from that inverter, a real gap.
* **Stuck sensor** — the (first) weather station's module temperature freezes at its 09:00 value
  until 15:00 on the day before (or, for a one-day range, the same day).

Which inverter trips is fixed by the seed, the days by the range, so re-running the same range
reproduces the same faults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from .signals import DayGrid, Noise

GROUND_FAULT_BIT = 0  # SunSpec Evt1 bit 0
OUTAGE_LOCAL = (time(10, 30), time(13, 0))
SILENT_LOCAL = (time(11, 15), time(12, 0))
STUCK_LOCAL = (time(9, 0), time(15, 0))


@dataclass(frozen=True)
class FaultPlan:
    outage_inverter: int | None
    outage: np.ndarray  # bool per timestamp: the inverter is tripped
    silent: np.ndarray  # bool per timestamp: ... and sends nothing at all
    stuck: np.ndarray  # bool per timestamp: module_temp frozen
    outage_window: tuple[datetime, datetime] | None = None
    silent_window: tuple[datetime, datetime] | None = None
    stuck_window: tuple[datetime, datetime] | None = None


def _window(grid: DayGrid, day: date, bounds: tuple[time, time]) -> tuple[np.ndarray, tuple[datetime, datetime]]:
    start, end = (
        pd.Timestamp(datetime.combine(day, moment)).tz_localize(grid.tz, nonexistent="shift_forward", ambiguous=True)
        for moment in bounds
    )
    mask = np.asarray((grid.times >= start) & (grid.times < end))
    return mask, (start.to_pydatetime(), end.to_pydatetime())


def no_faults(grid: DayGrid) -> FaultPlan:
    empty = np.zeros(grid.size, dtype=bool)
    return FaultPlan(outage_inverter=None, outage=empty, silent=empty, stuck=empty)


def plan_faults(*, grid: DayGrid, days: list[date], inverters: int, noise: Noise) -> FaultPlan:
    """Place the outage on the middle day of ``days`` (the plant-local dates the range covers)
    and the stuck sensor on the day before it."""
    if not days:
        return no_faults(grid)
    outage_day = days[len(days) // 2]
    stuck_day = days[len(days) // 2 - 1] if len(days) > 1 else outage_day
    stuck, stuck_window = _window(grid, stuck_day, STUCK_LOCAL)
    if not inverters:
        empty = np.zeros(grid.size, dtype=bool)
        return FaultPlan(outage_inverter=None, outage=empty, silent=empty, stuck=stuck, stuck_window=stuck_window)
    outage, outage_window = _window(grid, outage_day, OUTAGE_LOCAL)
    silent, silent_window = _window(grid, outage_day, SILENT_LOCAL)
    return FaultPlan(
        outage_inverter=int(noise.generator("outage").integers(inverters)),
        outage=outage,
        silent=silent,
        stuck=stuck,
        outage_window=outage_window,
        silent_window=silent_window,
        stuck_window=stuck_window,
    )
