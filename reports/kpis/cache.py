"""The KPI day cache: a plant-local day's additive figures (:class:`~.compute.DayFigures`) are
computed once and kept in ``KpiDay``, so a month's KPIs are thirty rows read, not a month of
5-minute data re-aggregated — the KPI endpoint answers a chart in tens of milliseconds.

A kept day is served only while it is still what a recomputation would give:

* ``config_key`` equals the plant's now (devices, nameplate, gamma, plant model, KPI version);
* no dirty telemetry mark (``telemetry.DirtyHour``) lies in or next to the day: data stored
  since the last fold may change it (kept days are not served, and not written, while marked);
* the day's data did not change after it was computed: the rollup fold, as it consumes marks,
  stamps ``changed_at`` of the days they touch with the database clock (``hours_folded``), and
  a day computed before that stamp (``computed_at``, the same clock, taken before its reads) is
  recomputed. Data committed before a computation's reads is in it; data committed after is
  marked, then folded, then stamped — after the computation's ``computed_at``.

The alarms' lost energy is not kept (alarms change after the fact); it is read on every answer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from plants.models import Device, Plant
from reports.models import KpiDay
from telemetry.models import DirtyHour
from telemetry.rollups.buckets import local_day_start, zone

from .compute import DayFigures, day_figures
from .inputs import KpiFacts, kpi_facts_read, kpi_inputs_read

HOUR = timedelta(hours=1)
WARM_DAYS = 35  # a month's chart and the previous complete month's report
_TINY = timedelta(microseconds=1)


def _db_now() -> datetime:
    """The database's clock (the one ``changed_at`` is stamped with), not this process's."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()


def _days_of_hour(hour: datetime, tz: ZoneInfo) -> set[date]:
    """The plant-local days a UTC hour's data can change: its own and, through the energy of the
    neighbouring hours (a counter's delta spans the boundary), those of the hours either side."""
    return {(hour - HOUR).astimezone(tz).date(), (hour + 2 * HOUR - _TINY).astimezone(tz).date()}


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def kpi_days_read(*, facts: KpiFacts, start: date, end: date) -> dict[date, DayFigures]:
    """The figures of the plant-local days ``start..end`` (inclusive): kept ones where still
    true, the others computed (one read per run of consecutive days) and kept."""
    return _days(facts, start, end)[0]


def kpi_days_warm(*, days: int = WARM_DAYS, budget_seconds: float | None = None) -> int:
    """Beat: compute and keep every plant's days of the last ``days`` complete plant-local days
    that are not kept or no longer true, so the first look at a month's KPIs is fast too.
    Stops after ``budget_seconds`` (the next run goes on). Returns the days computed."""
    started = time.monotonic()
    computed = 0
    for plant in Plant.objects.order_by("id"):
        facts = kpi_facts_read(plant=plant)
        yesterday = timezone.now().astimezone(facts.tz).date() - timedelta(days=1)
        computed += _days(facts, yesterday - timedelta(days=days - 1), yesterday)[1]
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
    return computed


def _days(facts: KpiFacts, start: date, end: date) -> tuple[dict[date, DayFigures], int]:
    tz = facts.tz
    lo, hi = local_day_start(start, tz), local_day_start(end + timedelta(days=1), tz)
    kept = {
        row["day"]: row
        for row in KpiDay.objects.filter(plant=facts.plant, day__gte=start, day__lte=end).values(
            "day", "config_key", "figures", "computed_at", "changed_at"
        )
    }
    marked: set[date] = set()
    if facts.device_ids:
        hours = DirtyHour.objects.filter(device_id__in=facts.device_ids, hour__gte=lo - HOUR, hour__lt=hi + HOUR)
        for hour in hours.values_list("hour", flat=True).distinct():
            marked |= _days_of_hour(hour, tz)
    result: dict[date, DayFigures] = {}
    missing: list[date] = []
    day = start
    while day <= end:
        row = kept.get(day)
        if (
            row is not None
            and day not in marked
            and row["figures"] is not None
            and row["config_key"] == facts.config_key
            and row["computed_at"] is not None
            and (row["changed_at"] is None or row["changed_at"] < row["computed_at"])
        ):
            result[day] = DayFigures.from_json(row["figures"])
        else:
            missing.append(day)
        day += timedelta(days=1)
    for first, last in _runs(missing):
        computed_at = _db_now()
        fresh = day_figures(kpi_inputs_read(plant=facts.plant, start=first, end=last, facts=facts))
        result.update(fresh)
        keep = [
            KpiDay(
                plant=facts.plant, day=day, config_key=facts.config_key, figures=f.as_json(), computed_at=computed_at
            )
            for day, f in fresh.items()
            if day not in marked
        ]
        KpiDay.objects.bulk_create(
            keep,
            update_conflicts=True,
            unique_fields=["plant", "day"],
            update_fields=["config_key", "figures", "computed_at"],
        )
    return dict(sorted(result.items())), len(missing)


def kpi_days_mark_changed(*, marks: Sequence[tuple[int, datetime, datetime]]) -> int:
    """``telemetry.signals.hours_folded``: stamp ``changed_at`` of the plant-local days the
    folded (device, hour) marks touch, in (plant, day) order. Returns the days stamped."""
    devices = {device_id for device_id, _hour, _marked in marks}
    plants = {
        pk: (plant_id, zone(name))
        for pk, plant_id, name in Device.objects.filter(id__in=devices).values_list("id", "plant_id", "plant__timezone")
    }
    keys: set[tuple[int, date]] = set()
    for device_id, hour, _marked in marks:
        if device_id in plants:
            plant_id, tz = plants[device_id]
            keys |= {(plant_id, day) for day in _days_of_hour(hour, tz)}
    if not keys:
        return 0
    now = _db_now()
    KpiDay.objects.bulk_create(
        [KpiDay(plant_id=plant_id, day=day, changed_at=now) for plant_id, day in sorted(keys)],
        update_conflicts=True,
        unique_fields=["plant", "day"],
        update_fields=["changed_at"],
    )
    return len(keys)


def on_hours_folded(sender, marks, **kwargs) -> None:
    kpi_days_mark_changed(marks=marks)
