"""The simulator's time grid and its deterministic randomness.

Every random draw is keyed by ``(seed, plant, plant-local day, purpose)`` and filtered within
that day only. Why: a value at a given timestamp must not depend on the range a run covers.
``seed_demo`` tops up the last days again and again; if noise depended on where a run started,
the new rows would disagree with the stored ones and counters would step backwards at the seam.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy.signal import lfilter


@dataclass(frozen=True)
class DayGrid:
    """Timestamps (UTC) of whole plant-local days at a fixed step, and where each day sits."""

    times: pd.DatetimeIndex
    days: tuple[tuple[date, slice], ...]
    tz: str
    step_minutes: int

    @property
    def size(self) -> int:
        return len(self.times)

    @property
    def step_hours(self) -> float:
        return self.step_minutes / 60.0


def _local_midnight(day: date, tz: str) -> pd.Timestamp:
    # A few zones skip or repeat midnight on DST days; take the first instant of the day.
    return pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=True)


def day_grid(*, first_day: date, last_day: date, tz: str, step_minutes: int) -> DayGrid:
    """Whole local days, each starting at local midnight, so that a day's grid (and its noise)
    is the same whichever range asked for it. DST days get 23 or 25 hours of samples."""
    pieces: list[pd.DatetimeIndex] = []
    days: list[tuple[date, slice]] = []
    offset = 0
    day = first_day
    while day <= last_day:
        times = pd.date_range(
            _local_midnight(day, tz),
            _local_midnight(day + timedelta(days=1), tz),
            freq=f"{step_minutes}min",
            inclusive="left",
        ).tz_convert("UTC")
        pieces.append(times)
        days.append((day, slice(offset, offset + len(times))))
        offset += len(times)
        day += timedelta(days=1)
    times = pieces[0].append(pieces[1:]) if len(pieces) > 1 else pieces[0]
    return DayGrid(times=pd.DatetimeIndex(times), days=tuple(days), tz=tz, step_minutes=step_minutes)


class Noise:
    """Seeded noise for one plant: white, AR(1) and per-day first-order lags, all restarted at
    each local midnight (see the module docstring)."""

    def __init__(self, *, seed: int, plant_code: str, grid: DayGrid):
        if seed < 0:
            raise ValueError("seed must not be negative")
        self.seed = seed
        self.plant_code = plant_code
        self.grid = grid

    def generator(self, key: str, day: date | None = None) -> np.random.Generator:
        """A generator for ``key`` on ``day`` (or for the plant's fixed properties when None)."""
        tag = zlib.crc32(f"{self.plant_code}|{key}".encode())
        return np.random.default_rng([self.seed, day.toordinal() if day else 0, tag])

    def white(self, key: str) -> np.ndarray:
        out = np.empty(self.grid.size)
        for day, where in self.grid.days:
            out[where] = self.generator(key, day).standard_normal(where.stop - where.start)
        return out

    def ar1(self, key: str, *, phi: float) -> np.ndarray:
        """Unit-variance AR(1): slowly wandering noise (cloud edges, grid frequency, load)."""
        out = self.white(key)
        gain = np.sqrt(1.0 - phi * phi)
        for _day, where in self.grid.days:
            day = out[where]
            if len(day) > 1:
                day[1:] = lfilter([gain], [1.0, -phi], day[1:], zi=[phi * day[0]])[0]
        return out


def lag_per_day(values: np.ndarray, *, grid: DayGrid, time_constant_minutes: float) -> np.ndarray:
    """First-order thermal lag, restarted each local midnight from that day's first value."""
    alpha = grid.step_minutes / (time_constant_minutes + grid.step_minutes)
    out = np.empty_like(values, dtype=float)
    for _day, where in grid.days:
        day = values[where].astype(float)
        if len(day):
            out[where] = lfilter([alpha], [1.0, alpha - 1.0], day, zi=[(1.0 - alpha) * day[0]])[0]
    return out


def cumulative_energy(power_kw: np.ndarray, *, grid: DayGrid) -> np.ndarray:
    """kWh counted over the grid: each sample adds the energy of the step that ends at it
    (power x step). Why not trapezoids: an increment must depend on this sample only, so that a
    run starting at midnight adds exactly what a longer run adds there (counters stay continuous
    across runs); at 5 minutes the difference to the trapezoid is a fraction of a percent."""
    return np.cumsum(power_kw * grid.step_hours)


def energy_today(power_kw: np.ndarray, *, grid: DayGrid) -> np.ndarray:
    """The inverter's day counter: the same sum, restarting at each plant-local midnight."""
    out = np.empty_like(power_kw, dtype=float)
    for _day, where in grid.days:
        out[where] = np.cumsum(power_kw[where] * grid.step_hours)
    return out
