"""Forecast windows: which times a horizon covers, the model's time step and how results are
bucketed (issue 7). Windows start at plant-local midnights (DST-correct: a local day is 23, 24
or 25 hours) except intraday, which starts at the next quarter hour.

| horizon      | window                          | model step | points       |
| ------------ | ------------------------------- | ---------- | ------------ |
| intraday     | next 6 h from the quarter hour  | 15 min     | 15 min       |
| day_ahead    | one local day (default tomorrow)| 15 min     | 15 min       |
| week_ahead   | 7 local days                    | 15 min     | local hours  |
| month_ahead  | one calendar month of days      | 15 min     | local days   |
| year         | 12 calendar months              | 1 h        | local months |

The model runs at interval midpoints, so a point's ``kw`` is the mean power over its interval
and energy is ``Σ kw x hours``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from .choices import Horizon, Resolution

QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)
INTRADAY_SPAN = timedelta(hours=6)


@dataclass(frozen=True)
class Window:
    horizon: str
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    forecast_date: date  # plant-local date of the start
    step: timedelta  # model step
    resolution: str  # output points
    tz: ZoneInfo

    def interval_starts(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq=self.step, inclusive="left")

    def midpoints(self) -> pd.DatetimeIndex:
        return self.interval_starts() + self.step / 2


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, 1) if day.day == 1 else date(year, month, min(day.day, 28))


def forecast_window(*, horizon: str, tz: ZoneInfo, start: date | None, now: datetime) -> Window:
    """The window of ``horizon`` starting on plant-local date ``start`` (default: tomorrow; the
    next month's first day for ``year``; ignored for ``intraday``, which starts now)."""
    today = now.astimezone(tz).date()
    if horizon == Horizon.INTRADAY:
        begin = now.astimezone(UTC)
        floored = begin - timedelta(minutes=begin.minute % 15, seconds=begin.second, microseconds=begin.microsecond)
        begin = floored if floored == begin else floored + QUARTER
        return Window(
            horizon, begin, begin + INTRADAY_SPAN, begin.astimezone(tz).date(), QUARTER, Resolution.FIFTEEN_MINUTES, tz
        )
    if horizon == Horizon.YEAR:
        first = start or _add_months(date(today.year, today.month, 1), 1)
        last = _add_months(first, 12)
        return Window(horizon, _local_midnight(first, tz), _local_midnight(last, tz), first, HOUR, Resolution.MONTH, tz)
    first = start or today + timedelta(days=1)
    if horizon == Horizon.DAY_AHEAD:
        last, resolution = first + timedelta(days=1), Resolution.FIFTEEN_MINUTES
    elif horizon == Horizon.WEEK_AHEAD:
        last, resolution = first + timedelta(days=7), Resolution.HOUR
    elif horizon == Horizon.MONTH_AHEAD:
        last, resolution = _add_months(first, 1), Resolution.DAY
    else:
        raise ValueError(f"unknown horizon {horizon!r}")
    return Window(horizon, _local_midnight(first, tz), _local_midnight(last, tz), first, QUARTER, resolution, tz)


def bucket_labels(times: pd.DatetimeIndex, *, resolution: str, tz: ZoneInfo) -> pd.DatetimeIndex:
    """The output bucket (UTC start) of each model interval start: the local hour, day or month."""
    if resolution == Resolution.FIFTEEN_MINUTES:
        return times
    local = times.tz_convert(tz)
    if resolution == Resolution.HOUR:  # minus the local minutes: right for +05:30 zones and DST days
        return times - pd.to_timedelta(local.minute, unit="m") - pd.to_timedelta(local.second, unit="s")
    floored = local.normalize() if resolution == Resolution.DAY else _month_starts(local, tz)
    return floored.tz_convert("UTC")


def _month_starts(local: pd.DatetimeIndex, tz: ZoneInfo) -> pd.DatetimeIndex:
    keys = local.year * 12 + (local.month - 1)
    starts = {k: pd.Timestamp(year=k // 12, month=k % 12 + 1, day=1, tz=tz) for k in set(keys)}
    return pd.DatetimeIndex([starts[k] for k in keys])
