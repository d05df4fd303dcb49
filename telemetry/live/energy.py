"""Energy per plant-local day: today's so far (cached under the state it was computed from) and
the daily trend, from the ``energy_produced`` rollups."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from plants.models import Plant

from ..choices import Resolution
from ..models import DirtyHour, Rollup
from ..rollups import ENERGY_KEY
from ..rollups.buckets import day_parts, local_day_start, zone
from ..rollups.compute import from_epoch, rollups_read_epoch
from .series import inverter_ids, metric_ids_by_key
from .status import MAX_DAYS, rounded


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a plant-local day starts (23, 24 or 25 hours before the next one) — the
    daily rollup's bucket key, so it is the folder's own function."""
    return local_day_start(day, tz)


def plant_zone(plant: Plant) -> ZoneInfo:
    return zone(plant.timezone)


def _energy_inputs(plant: Plant) -> tuple[list[int], int | None]:
    """The plant's inverters and the id of ``energy_produced``. Inverters only: a meter
    measuring the same energy would count it twice."""
    energy = metric_ids_by_key(keys=[ENERGY_KEY]).get(ENERGY_KEY)
    return list(inverter_ids(plant).values_list("id", flat=True)), energy[0] if energy else None


def _energy_read(
    *, inverters: list[int], energy_id: int | None, resolution: str, start: datetime, end: datetime, tz: ZoneInfo
) -> dict:
    """``energy_produced`` aggregates keyed ``(device, metric, bucket start in epoch seconds)``
    (``rollups_read_epoch``: no datetime per row): stored rollups, with buckets of hours not
    folded yet recomputed from raw readings — never stale."""
    if energy_id is None or not inverters or start >= end:
        return {}
    return rollups_read_epoch(
        device_ids=inverters, metric_ids={energy_id}, resolution=resolution, start=start, end=end, tz=tz
    )


def _today_parts(today: date, tz: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    """Today as whole UTC hours plus 5-minute edges (``day_parts``: the edges are empty unless
    the zone has a half-hour offset): ``(resolution, start, end)`` of the non-empty parts."""
    lo, hi = local_midnight(today, tz), local_midnight(today + timedelta(days=1), tz)
    hour_lo, hour_hi = day_parts(lo, hi)
    parts = [
        (Resolution.FIVE_MINUTES, lo, hour_lo),
        (Resolution.HOUR, hour_lo, hour_hi),
        (Resolution.FIVE_MINUTES, hour_hi, hi),
    ]
    return [(resolution, start, end) for resolution, start, end in parts if start < end]


def _energy_today(*, inverters: list[int], energy_id: int | None, today: date, tz: ZoneInfo) -> float | None:
    """Today is read by :func:`_today_parts`, not as a daily bucket: today always has a dirty
    hour while data flows, and recomposing a whole dirty day costs about as much again as
    computing the hour."""
    sums = [
        aggregate.sum
        for resolution, start, end in _today_parts(today, tz)
        for aggregate in _energy_read(
            inverters=inverters, energy_id=energy_id, resolution=resolution, start=start, end=end, tz=tz
        ).values()
    ]
    return rounded(sum(sums)) if sums else None


def _energy_today_folded(*, inverters: list[int], energy_id: int, today: date, tz: ZoneInfo) -> float | None:
    """:func:`_energy_today` when none of the inverters has a dirty hour: every bucket is
    folded, so the answer is the sum of the stored rows — added up in the database (one row
    back instead of one per inverter and hour)."""
    today_rows = Q()
    for resolution, start, end in _today_parts(today, tz):
        today_rows |= Q(resolution=resolution, bucket__gte=start, bucket__lt=end)
    if not today_rows:
        return None
    found = Rollup.objects.filter(today_rows, device_id__in=inverters, metric_id=energy_id).aggregate(
        total=Sum("sum"), rows=Count("*")
    )
    return rounded(found["total"]) if found["rows"] else None


def plant_energy_today(*, plant: Plant, now: datetime | None = None) -> float | None:
    """Energy (kWh) the plant's inverters produced since plant-local midnight; null without data.

    While hours are unfolded their energy is recomputed from raw readings (counter spreading,
    power integrals, the neighbouring hours) — for 100 inverters most of a dashboard load. That
    answer is cached under the exact state it was computed from: the plant's dirty marks (count
    and newest ``marked_at``: every ingest re-marks what it touched, every fold deletes what it
    folded) and its inverters, so a cached figure is never older than the data; with no dirty
    mark the rollups are read directly, which is cheap."""
    tz = plant_zone(plant)
    inverters, energy_id = _energy_inputs(plant)
    today = (now or timezone.now()).astimezone(tz).date()
    if energy_id is None or not inverters:
        return None
    state = DirtyHour.objects.filter(device_id__in=inverters).aggregate(marks=Count("*"), newest=Max("marked_at"))
    if not state["marks"]:
        return _energy_today_folded(inverters=inverters, energy_id=energy_id, today=today, tz=tz)
    devices = zlib.crc32(",".join(map(str, sorted(inverters))).encode())
    key = (
        f"telemetry:energy-today:{plant.pk}:{today.isoformat()}:{tz.key}:{energy_id}:{devices}:"
        f"{state['marks']}:{state['newest'].timestamp()}"
    )
    try:
        found = cache.get(key, _MISSING)
    except Exception:  # noqa: BLE001 -- a cache outage must not take the dashboard down
        found = _MISSING
    if found is not _MISSING:
        return found
    value = _energy_today(inverters=inverters, energy_id=energy_id, today=today, tz=tz)
    try:
        cache.set(key, value, ENERGY_TODAY_CACHE_SECONDS)
    except Exception:  # noqa: BLE001, S110 -- best effort
        pass
    return value


_MISSING = object()
ENERGY_TODAY_CACHE_SECONDS = 300


@dataclass(frozen=True)
class DayEnergy:
    day: date
    start: datetime
    end: datetime
    energy_kwh: float | None


def plant_daily_energy(*, plant: Plant, days: int, now: datetime | None = None) -> list[DayEnergy]:
    """One row per plant-local day, oldest first, ending today (so far). A day runs from local
    midnight to local midnight — a DST day is the 23 or 25 hours it was, never a UTC day — and
    a day without data is null, never zero. Energy is ``energy_produced`` (counter differences,
    else the power integral: :mod:`telemetry.rollups.energy`), the figure reports use too; past
    days from the daily rollups, today from its hours (:func:`_energy_today`)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    tz = plant_zone(plant)
    today = (now or timezone.now()).astimezone(tz).date()
    dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    starts = [local_midnight(day, tz) for day in [*dates, today + timedelta(days=1)]]
    inverters, energy_id = _energy_inputs(plant)
    totals: dict[date, float] = {}
    past = _energy_read(
        inverters=inverters, energy_id=energy_id, resolution=Resolution.DAY, start=starts[0], end=starts[-2], tz=tz
    )
    for (_device, _metric, bucket), aggregate in past.items():
        day = from_epoch(bucket).astimezone(tz).date()
        totals[day] = totals.get(day, 0.0) + aggregate.sum
    rows = [DayEnergy(day, starts[i], starts[i + 1], rounded(totals.get(day))) for i, day in enumerate(dates[:-1])]
    today_kwh = _energy_today(inverters=inverters, energy_id=energy_id, today=today, tz=tz)
    return [*rows, DayEnergy(today, starts[-2], starts[-1], today_kwh)]
