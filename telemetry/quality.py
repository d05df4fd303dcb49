"""Data quality of what is ingested: flat-lined (stuck) values, stale metrics, completeness.

What is computed where, so that reading it is cheap:

* **Flat-lined** — a sensor repeating exactly one non-zero value for at least
  :data:`FLATLINE_READINGS` consecutive readings although the quantity keeps moving (a stuck
  irradiance or temperature sensor; a frozen logger register). Ingest keeps, on the latest value
  of every (device, metric), how many consecutive readings carried it (``repeats``) and since
  when (``repeat_since``) — computed from the rows of the batch in memory and merged with the
  stored run in the same upsert. Only :func:`should_vary` metrics are judged: power at night,
  a full battery's state of charge, a day counter after sunset legitimately stay put; zero is
  never "stuck" (night, standby, no wind).
* **Stale** — the device still reports, but one of its measured metrics stopped arriving
  (older than the device's last communication by more than the online window). Status codes
  and bitfields are sent on change only and never count as stale.
* **Completeness** — per rollup bucket, ``slots``: how many of its 5-minute slots hold at least
  one reading (1 for a 5-minute bucket, up to 12 for an hour, up to 288 for a 24-hour day),
  stored by the folder. A device series shows ``slots / slots in the bucket``; a plant series
  shows Σ slots over its devices / (devices reporting the metric in the range x slots in the
  bucket) and how many devices reported in the bucket (Enphase's ``devices_reporting``).
  Hourly and daily buckets whose every reading carried one non-zero value
  (``min == max``, at least :data:`FLATLINE_READINGS` readings) are flagged flat-lined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter

FLATLINE_READINGS = 12  # an hour of 5-minute readings
SLOT = timedelta(minutes=5)
_VARYING = re.compile(
    r"(ac_power|dc_power|reactive_power|battery_power|import_power|export_power|frequency|"
    r"irradiance_poa|irradiance_ghi|module_temp|ambient_temp|internal_temp|cell_temp_max|wind_speed|"
    r"battery_voltage|ac_voltage_l[123]|ac_current_l[123]|pv\d+_voltage|pv\d+_current|string\d+_current)"
)


def should_vary(key: str) -> bool:
    """Whether a long run of one value of this metric means a stuck sensor: analog measurements
    (power, irradiance, temperatures, voltages, currents, frequency, wind) — not counters, status
    words, state of charge/health or power factor, which may hold one value for hours."""
    return _VARYING.fullmatch(key) is not None


def is_flatlined(*, key: str, value: float, repeats: int) -> bool:
    return repeats >= FLATLINE_READINGS and value != 0 and should_vary(key)


def bucket_is_flatlined(*, key: str, count: int, low: float, high: float) -> bool:
    """A rollup bucket whose readings (at least :data:`FLATLINE_READINGS`) all carried one
    non-zero value."""
    return count >= FLATLINE_READINGS and low == high and low != 0 and should_vary(key)


@dataclass(frozen=True, slots=True)
class LatestRun:
    """The newest row of one (device, metric) in a batch, and the run of equal values ending
    with it: ``repeats`` rows since ``since``; ``whole`` when every row of the key in the batch
    belongs to the run (then it may continue the stored run)."""

    device_id: int
    metric_id: int
    ts: datetime
    value: float
    repeats: int
    since: datetime
    whole: bool


def latest_runs(rows: Sequence[tuple[int, int, datetime, float]]) -> list[LatestRun]:
    """One :class:`LatestRun` per (device, metric) of ``rows``, which must be sorted by
    (device, metric, ts) — as ``store_rows`` sorts them. One pass; the per-row work is C
    (``groupby``/``itemgetter``), Python only per key."""
    result: list[LatestRun] = []
    for (device_id, metric_id), group in groupby(rows, key=itemgetter(0, 1)):
        items = list(group)
        last = items[-1]
        value = last[3]
        start = len(items) - 1
        while start > 0 and items[start - 1][3] == value:
            start -= 1
        result.append(LatestRun(device_id, metric_id, last[2], value, len(items) - start, items[start][2], start == 0))
    return result


def merge_run(*, stored_ts: datetime, stored_value: float, stored_repeats: int, stored_since, run: LatestRun):
    """``(repeats, since)`` after ``run`` lands on a stored latest value that is older than it
    (the SQLite path; PostgreSQL does the same in the upsert)."""
    if run.whole and stored_value == run.value and stored_ts < run.since:
        return stored_repeats + run.repeats, stored_since or stored_ts
    return run.repeats, run.since


def slots_in(start: datetime, end: datetime) -> int:
    """5-minute slots of a bucket ``[start, end)`` (12 per hour; 276/288/300 for local days)."""
    return max(1, int((end - start) / SLOT))


@dataclass(frozen=True)
class MetricQuality:
    stale: list[str]
    flatlined: list[str]


def metric_flags(
    *, latest: Iterable[tuple[str, str, float, datetime, int]], last_communication: datetime | None, window: timedelta
) -> MetricQuality:
    """Stale and flat-lined metric keys of one device from its latest values
    ``(key, kind, value, ts, repeats)`` (see the module docstring)."""
    stale, flat = [], []
    for key, kind, value, ts, repeats in latest:
        if is_flatlined(key=key, value=value, repeats=repeats):
            flat.append(key)
        if last_communication is not None and kind in ("gauge", "counter") and ts < last_communication - window:
            stale.append(key)
    return MetricQuality(stale=sorted(stale), flatlined=sorted(flat))
