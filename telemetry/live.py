"""Live values and recent series: the reads behind the plant/device lists, dashboard and monitoring.

* **Live fields** (``currentGeneration``, ``status``, ``lastCommunication``...) come from
  ``LatestValue`` (one row per device and metric, kept by ingest), never from scanning readings.
  They are added to list querysets as correlated subqueries — primary-key lookups per row, one
  SQL statement per page however many plants or devices — and :func:`device_live` /
  :func:`plant_live` derive status and efficiency from them without touching the database.
* **Recent series and energy** come from ``telemetry.rollups.rollups_read`` (stored rollups,
  with the (device, hour)s still marked dirty recomputed from raw readings), so an answer is
  never older than the last reading. The plant power curve is the one exception: it reads the
  plant power rollup (one row per bucket, kept by the fold) for folded hours and sums the
  inverters in SQL only for hours still dirty (:func:`_plant_power`), because it is on every
  dashboard load and per-inverter rows cost more than the rest of the overview.

Bucket contract (``telemetry.rollups``): 5-minute buckets on UTC multiples of five minutes,
daily buckets at plant-local midnight in UTC, and a ``DirtyHour`` row means "this (device, UTC
hour) is not folded yet; its rollups may be stale or missing".
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, Exists, F, FloatField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import ExtractMinute, Floor, TruncHour
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from plants.choices import DeviceType, PlantStatus
from plants.models import Device, Plant

from .choices import MetricKind, Resolution
from .models import DirtyHour, LatestValue, PlantPower, Reading, Rollup
from .quality import MetricQuality, metric_flags
from .rollups import ENERGY_KEY, rollups_read
from .rollups.buckets import day_parts, local_day_start, runs_of, zone
from .rollups.compute import from_epoch, rollups_read_epoch

# A device that has sent nothing for this long is offline, and its last values no longer count
# as "current" (a dead inverter's last 40 kW must not show as live generation).
ONLINE_WINDOW = timedelta(minutes=15)
FAULT_STATUS_CODE = 7  # SunSpec model 101-103 St: 7 = FAULT
MIN_DC_KW = 0.01  # below this (night, standby) AC/DC efficiency is noise, not a figure
BUCKET = timedelta(minutes=5)
MAX_SERIES_HOURS = 168
MAX_DAYS = 366


class DeviceStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    FAULT = "fault"


DEVICE_STATUS_VALUES = tuple(status.value for status in DeviceStatus)

# The metrics monitoring shows per device type ("key values"), in display order.
_STRING_CURRENTS = tuple(f"string{n}_current" for n in range(1, 65))
_INVERTER_KEYS = ("ac_power", "dc_power", "energy_today", "energy_total", "internal_temp", "frequency", "status_code")
KEY_METRICS: dict[str, tuple[str, ...]] = {
    DeviceType.INVERTER: _INVERTER_KEYS,
    DeviceType.WEATHER_STATION: ("irradiance_poa", "irradiance_ghi", "module_temp", "ambient_temp", "wind_speed"),
    DeviceType.METER: ("import_power", "export_power", "import_energy", "export_energy", "frequency", "power_factor"),
    DeviceType.STRING_MONITORING_BOX: _STRING_CURRENTS,
    DeviceType.BESS: ("soc", "soh", "battery_power", "battery_voltage", "cell_temp_max", "status_code"),
    DeviceType.BESS_RACK: ("soc", "soh", "battery_power", "battery_voltage", "cell_temp_max", "status_code"),
    DeviceType.PCS: ("ac_power", "dc_power", "battery_power", "internal_temp", "status_code"),
    DeviceType.LOGGER: (),
}
ALL_KEY_METRICS = tuple(dict.fromkeys(key for keys in KEY_METRICS.values() for key in keys))
ENVIRONMENT_METRICS = ("irradiance_poa", "irradiance_ghi", "module_temp", "ambient_temp")


def _is_fresh(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment >= now - ONLINE_WINDOW


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# --- live fields on lists ---------------------------------------------------------------------


def _latest_of(key: str, field: str) -> Subquery:
    """The device's latest ``field`` of metric ``key`` — a lookup on LatestValue's primary key
    (device_id, metric_id), correlated with the outer Device row."""
    return Subquery(LatestValue.objects.filter(device_id=OuterRef("pk"), metric__key=key).values(field)[:1])


def device_live_annotate(*, queryset: QuerySet[Device]) -> QuerySet[Device]:
    """``queryset`` with the facts :func:`device_live` needs, as subqueries in the same SELECT:
    no extra query per page and none per row, so list query counts stay pinned."""
    return queryset.annotate(
        live_last_communication=Subquery(
            LatestValue.objects.filter(device_id=OuterRef("pk")).order_by("-ts").values("ts")[:1]
        ),
        live_ac_power=_latest_of("ac_power", "value"),
        live_ac_power_ts=_latest_of("ac_power", "ts"),
        live_dc_power=_latest_of("dc_power", "value"),
        live_dc_power_ts=_latest_of("dc_power", "ts"),
        live_status_code=_latest_of("status_code", "value"),
    )


@dataclass(frozen=True)
class DeviceLive:
    status: str
    current_output: float | None
    efficiency: float | None
    last_communication: datetime | None


def device_live(*, device: Device, now: datetime | None = None) -> DeviceLive:
    """Derived live figures of one annotated device (no query).

    * ``status``: ``offline`` when nothing arrived within :data:`ONLINE_WINDOW` (we cannot know
      its state, however alarming the last one was); else ``fault`` when its latest status code
      is SunSpec 7 FAULT (status codes are often sent only on change, so the latest one counts
      whatever its age); else ``online``.
    * ``current_output``: latest ``ac_power`` (kW) if fresh, else null.
    * ``efficiency``: AC/DC conversion efficiency in % from fresh ``ac_power`` and ``dc_power``,
      null when either is stale or DC is below :data:`MIN_DC_KW`.
    """
    now = now or timezone.now()
    last = getattr(device, "live_last_communication", None)
    if not _is_fresh(last, now):
        status = DeviceStatus.OFFLINE
    elif getattr(device, "live_status_code", None) == FAULT_STATUS_CODE:
        status = DeviceStatus.FAULT
    else:
        status = DeviceStatus.ONLINE
    ac = getattr(device, "live_ac_power", None) if _is_fresh(getattr(device, "live_ac_power_ts", None), now) else None
    dc = getattr(device, "live_dc_power", None) if _is_fresh(getattr(device, "live_dc_power_ts", None), now) else None
    efficiency = ac / dc * 100 if ac is not None and dc is not None and dc >= MIN_DC_KW else None
    return DeviceLive(
        status=status.value, current_output=_round(ac), efficiency=_round(efficiency, 2), last_communication=last
    )


def _plant_sum(queryset: QuerySet) -> Subquery:
    return Subquery(queryset.order_by().values("device__plant_id").annotate(total=Sum("value")).values("total")[:1])


def plant_live_annotate(*, queryset: QuerySet[Plant], now: datetime | None = None) -> QuerySet[Plant]:
    """``queryset`` with the facts :func:`plant_live` needs, as correlated aggregate subqueries
    over the plant's latest values (one SQL statement for the whole page).

    Efficiency pairs AC and DC per inverter — only inverters reporting both fresh count on either
    side — so a plant where one inverter sends no DC does not read as 150 % efficient."""
    cutoff = (now or timezone.now()) - ONLINE_WINDOW
    values = LatestValue.objects.filter(device__plant_id=OuterRef("pk"))
    fresh_inverter = values.filter(device__type=DeviceType.INVERTER, ts__gte=cutoff)
    fresh_ac = fresh_inverter.filter(metric__key="ac_power")
    fresh_dc = fresh_inverter.filter(metric__key="dc_power", value__gte=MIN_DC_KW)
    has_fresh = LatestValue.objects.filter(device_id=OuterRef("device_id"), ts__gte=cutoff)
    return queryset.annotate(
        live_last_update=Subquery(values.order_by("-ts").values("ts")[:1]),
        live_generation_kw=_plant_sum(fresh_ac),
        live_paired_ac_kw=_plant_sum(
            fresh_ac.filter(Exists(has_fresh.filter(metric__key="dc_power", value__gte=MIN_DC_KW)))
        ),
        live_paired_dc_kw=_plant_sum(fresh_dc.filter(Exists(has_fresh.filter(metric__key="ac_power")))),
    )


@dataclass(frozen=True)
class PlantLive:
    status: str
    current_generation: float | None
    efficiency: float | None
    last_update: datetime | None


def plant_live(*, plant: Plant, now: datetime | None = None) -> PlantLive:
    """Derived live figures of one annotated plant (no query).

    * ``status``: ``maintenance`` when the stored status says so (an operator's decision wins
      over telemetry); else ``online`` if any device communicated within :data:`ONLINE_WINDOW`;
      else ``offline``.
    * ``current_generation``: Σ fresh ``ac_power`` of the plant's inverters (kW), null if none.
    * ``efficiency``: Σ AC / Σ DC (%) over the inverters reporting both fresh.
    """
    now = now or timezone.now()
    last = getattr(plant, "live_last_update", None)
    if plant.status == PlantStatus.MAINTENANCE:
        status = PlantStatus.MAINTENANCE
    else:
        status = PlantStatus.ONLINE if _is_fresh(last, now) else PlantStatus.OFFLINE
    ac, dc = getattr(plant, "live_paired_ac_kw", None), getattr(plant, "live_paired_dc_kw", None)
    efficiency = ac / dc * 100 if ac is not None and dc else None
    return PlantLive(
        status=str(status.value),
        current_generation=_round(getattr(plant, "live_generation_kw", None)),
        efficiency=_round(efficiency, 2),
        last_update=last,
    )


# --- latest values in bulk --------------------------------------------------------------------


@dataclass(frozen=True)
class LatestPoint:
    value: float
    ts: datetime
    repeats: int = 1  # consecutive readings with this value (flat-line detection)
    kind: str = ""


def device_latest_values(
    *, device_ids: Iterable[int] | QuerySet, keys: Iterable[str] | None
) -> dict[int, dict[str, LatestPoint]]:
    """device id → metric key → latest point, for a whole page of devices in one query (the
    monitoring list's "key values"); ``keys=None``: every metric (for the quality flags)."""
    found: dict[int, dict[str, LatestPoint]] = defaultdict(dict)
    rows = LatestValue.objects.filter(device_id__in=device_ids)
    if keys is not None:
        rows = rows.filter(metric__key__in=list(keys))
    for device_id, key, value, ts, repeats, kind in rows.values_list(
        "device_id", "metric__key", "value", "ts", "repeats", "metric__kind"
    ):
        found[device_id][key] = LatestPoint(value, ts, repeats, kind)
    return found


def device_quality(*, latest: dict[str, LatestPoint], last_communication: datetime | None) -> MetricQuality:
    """Stale and flat-lined metrics of one device from its latest values (no query; see
    :mod:`telemetry.quality`)."""
    return metric_flags(
        latest=((key, p.kind, p.value, p.ts, p.repeats) for key, p in latest.items()),
        last_communication=last_communication,
        window=ONLINE_WINDOW,
    )


# --- recent series: rollups plus the not-yet-folded raw tail ------------------------------------


def bucket_floor(moment: datetime) -> datetime:
    """Start of the UTC 5-minute bucket holding ``moment``."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def series_window(*, hours: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` of the last ``hours``, on bucket edges, the current (partial) bucket last."""
    end = bucket_floor(now or timezone.now()) + BUCKET
    return end - timedelta(hours=hours), end


def bucket_starts(start: datetime, end: datetime) -> list[datetime]:
    count = int((end - start) / BUCKET)
    return [start + BUCKET * i for i in range(count)]


# Up to this many distinct dirty UTC hours in a window, the dirty (device, hour)s are written
# into the SQL as one "hour range AND device IN (...)" term per hour — normally one or two terms
# (the hours data is arriving in), and none right after a fold, so no per-row probe at all.
# Beyond it (a folder far behind) a per-row anti-join on DirtyHour's key is cheaper.
_INLINE_DIRTY = 48


def _dirty_pairs(*, device_ids, start: datetime, end: datetime) -> list[tuple[int, datetime]]:
    """The (device, UTC hour)s of ``[start, end)`` not folded yet — normally the last hour or two."""
    first_hour = start.replace(minute=0, second=0, microsecond=0)
    return list(
        DirtyHour.objects.filter(device_id__in=device_ids, hour__gte=first_hour, hour__lt=end).values_list(
            "device_id", "hour"
        )
    )


def _in_dirty(pairs: list[tuple[int, datetime]], field: str) -> Q | Exists:
    """Rows whose (device, hour of ``field``) is one of ``pairs``; rows must carry ``utc_hour``."""
    by_hour: dict[datetime, set[int]] = defaultdict(set)
    for device_id, hour in pairs:
        by_hour[hour].add(device_id)
    if len(by_hour) > _INLINE_DIRTY:
        return Exists(DirtyHour.objects.filter(device_id=OuterRef("device_id"), hour=OuterRef("utc_hour")))
    condition = Q()
    for hour, device_ids in by_hour.items():
        span = {f"{field}__gte": hour, f"{field}__lt": hour + timedelta(hours=1)}
        condition |= Q(device_id__in=sorted(device_ids), **span)
    return condition


def _bucket_of(hour, slot) -> datetime:
    """(UTC hour, slot) → bucket start; accepts what the driver returns through a raw cursor
    (an aware or naive datetime on PostgreSQL, text on SQLite)."""
    if isinstance(hour, str):
        hour = parse_datetime(hour)
    hour = hour.replace(tzinfo=UTC) if hour.tzinfo is None else hour.astimezone(UTC)
    return hour + BUCKET * int(slot)


def summed_series_5min(
    *, device_ids: Iterable[int] | QuerySet, metric_id: int, start: datetime, end: datetime
) -> dict[datetime, tuple[float, int]]:
    """bucket start → (Σ over devices of each device's bucket mean, devices reporting).

    The union ``telemetry.rollups.rollups_read`` makes (folded 5-minute rollups, raw readings
    for the (device, hour)s still dirty — a dirty hour's rollup is stale and skipped), but
    summed across devices in the database: a plant's power curve costs one row per bucket
    instead of one per device and bucket (100 inverters over 6 hours: 72 rows instead of 7,200 —
    converting those rows in Python was most of the overview's time). At most three queries,
    whatever the number of devices."""
    dirty = _dirty_pairs(device_ids=device_ids, start=start, end=end)
    result: dict[datetime, tuple[float, int]] = {}
    folded = Rollup.objects.filter(
        resolution=Resolution.FIVE_MINUTES,
        device_id__in=device_ids,
        metric_id=metric_id,
        bucket__gte=start,
        bucket__lt=end,
        count__gt=0,
    ).alias(utc_hour=TruncHour("bucket", tzinfo=UTC))
    if dirty:
        folded = folded.exclude(_in_dirty(dirty, "bucket"))
    for bucket, power, devices in (
        folded.order_by()
        .values("bucket")
        .annotate(power=Sum(F("sum") / F("count"), output_field=FloatField()), devices=Count("device_id"))
        .values_list("bucket", "power", "devices")
    ):
        result[bucket] = (power, devices)
    if not dirty:
        return result
    per_device = (
        Reading.objects.filter(
            device_id__in={device_id for device_id, _ in dirty},
            metric_id=metric_id,
            ts__gte=max(start, min(hour for _, hour in dirty)),
            ts__lt=min(end, max(hour for _, hour in dirty) + timedelta(hours=1)),
        )
        .annotate(utc_hour=TruncHour("ts", tzinfo=UTC), slot=Floor(ExtractMinute("ts", tzinfo=UTC) / Value(5)))
        .filter(_in_dirty(dirty, "ts"))
        .order_by()
        .values("device_id", "utc_hour", "slot")
        .annotate(mean=Avg("value"))
        .values_list("utc_hour", "slot", "mean")
    )
    sql, params = per_device.query.sql_with_params()
    with connection.cursor() as cursor:
        # Two-level aggregate (mean per device, then sum per bucket) over the ORM-compiled inner
        # query, so the bucket expressions stay the ones Django writes for each database.
        cursor.execute(
            f"SELECT utc_hour, slot, SUM(mean), COUNT(*) FROM ({sql}) per_device GROUP BY utc_hour, slot",  # noqa: S608
            params,
        )
        for hour, slot, power, devices in cursor.fetchall():
            bucket = _bucket_of(hour, slot)
            before = result.get(bucket, (0.0, 0))  # a bucket may be folded for some devices only
            result[bucket] = (before[0] + power, before[1] + devices)
    return result


def metric_ids_by_key(*, keys: Iterable[str]) -> dict[str, tuple[int, str, str]]:
    """key → (id, kind, unit) for the given keys, from the per-process catalog cache
    (``telemetry.selectors.metric_info``, refreshed with ingest's 60-second catalog): no query."""
    from .selectors import metric_info

    info = metric_info()
    return {key: (info[key].id, info[key].kind, info[key].unit) for key in keys if key in info}


def _inverter_ids(plant: Plant) -> QuerySet:
    return Device.objects.filter(plant_id=plant.pk, type=DeviceType.INVERTER).values("id")


def _plant_power(*, plant: Plant, metric_id: int, start: datetime, end: datetime) -> dict[datetime, tuple[float, int]]:
    """bucket start → (plant power, inverters reporting): the plant power rollup (one row per
    bucket, ``telemetry.rollups.plant_power``) for the hours every inverter has folded, and
    :func:`summed_series_5min` over the inverters for the hours one of them has not (that
    hour's plant row is stale) — normally the last hour or two."""
    inverters = _inverter_ids(plant)
    dirty_hours = {hour for _device, hour in _dirty_pairs(device_ids=inverters, start=start, end=end)}
    result = {
        bucket: (power, devices)
        for bucket, power, devices in PlantPower.objects.filter(
            plant_id=plant.pk, bucket__gte=start, bucket__lt=end
        ).values_list("bucket", "power", "devices")
        if bucket.replace(minute=0) not in dirty_hours
    }
    for run in runs_of(dirty_hours):
        lo, hi = max(start, run[0]), min(end, run[-1] + timedelta(hours=1))
        recent = summed_series_5min(device_ids=inverters, metric_id=metric_id, start=lo, end=hi)
        result.update((bucket, value) for bucket, value in recent.items() if bucket.replace(minute=0) in dirty_hours)
    return result


@dataclass(frozen=True)
class PowerPoint:
    timestamp: datetime
    power_kw: float | None
    devices_reporting: int


def plant_power_series(*, plant: Plant, start: datetime, end: datetime) -> list[PowerPoint]:
    """The plant's AC power per 5-minute bucket: Σ over its inverters of each one's mean
    ``ac_power`` in the bucket. A bucket no inverter reported in is null — a gap, never a zero
    (zero is a real night-time value). ``devices_reporting`` says how complete a bucket is."""
    metric = metric_ids_by_key(keys=["ac_power"]).get("ac_power")
    summed = _plant_power(plant=plant, metric_id=metric[0], start=start, end=end) if metric is not None else {}
    points = []
    for bucket in bucket_starts(start, end):
        power, devices = summed.get(bucket, (None, 0))
        points.append(PowerPoint(bucket, _round(power), devices))
    return points


# --- energy per plant-local day -----------------------------------------------------------------


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
    return list(_inverter_ids(plant).values_list("id", flat=True)), energy[0] if energy else None


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
    return _round(sum(sums)) if sums else None


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
    return _round(found["total"]) if found["rows"] else None


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
    rows = [DayEnergy(day, starts[i], starts[i + 1], _round(totals.get(day))) for i, day in enumerate(dates[:-1])]
    today_kwh = _energy_today(inverters=inverters, energy_id=energy_id, today=today, tz=tz)
    return [*rows, DayEnergy(today, starts[-2], starts[-1], today_kwh)]


# --- overview -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlantOverview:
    plant: Plant
    live: PlantLive
    energy_today_kwh: float | None
    environment: dict[str, float | None]
    devices: dict[str, int]
    window: tuple[datetime, datetime]
    peak: PowerPoint | None  # the highest 5-minute bucket of the window
    as_of: datetime


def _plant_live_states(*, plant: Plant, now: datetime) -> tuple[Plant, dict[str, int], dict[str, float | None]]:
    """The overview's live part from one grouped query over the plant's latest values (one row
    per device): the plant's live facts as :func:`plant_live_annotate` would annotate them,
    device states by :func:`device_live`'s rules, and the mean of the fresh environment
    sensors. Three queries — a correlated subquery per device and figure among them — before."""
    catalog = metric_ids_by_key(keys=["ac_power", "dc_power", "status_code", *ENVIRONMENT_METRICS])
    cutoff = now - ONLINE_WINDOW

    def latest(key: str, *, fresh: bool):
        metric = catalog.get(key, (-1,))[0]
        condition = Q(latest_values__metric_id=metric) & (Q(latest_values__ts__gte=cutoff) if fresh else Q())
        return Max("latest_values__value", filter=condition)

    rows = (
        Device.objects.filter(plant_id=plant.pk)
        .annotate(
            last=Max("latest_values__ts"),
            code=latest("status_code", fresh=False),
            ac=latest("ac_power", fresh=True),
            dc=latest("dc_power", fresh=True),
            **{f"env_{n}": latest(key, fresh=True) for n, key in enumerate(ENVIRONMENT_METRICS)},
        )
        .values_list("type", "last", "code", "ac", "dc", *[f"env_{n}" for n in range(len(ENVIRONMENT_METRICS))])
    )
    counts = dict.fromkeys([state.value for state in DeviceStatus], 0)
    sensors: dict[str, list[float]] = defaultdict(list)
    last_update = generation = paired_ac = paired_dc = None
    for device_type, last, code, ac, dc, *env in rows:
        if not _is_fresh(last, now):
            counts[DeviceStatus.OFFLINE.value] += 1
        elif code == FAULT_STATUS_CODE:
            counts[DeviceStatus.FAULT.value] += 1
        else:
            counts[DeviceStatus.ONLINE.value] += 1
        if last is not None and (last_update is None or last > last_update):
            last_update = last
        if device_type == DeviceType.INVERTER and ac is not None:
            generation = (generation or 0.0) + ac
            if dc is not None and dc >= MIN_DC_KW:  # only inverters reporting both count (plant_live_annotate)
                paired_ac = (paired_ac or 0.0) + ac
                paired_dc = (paired_dc or 0.0) + dc
        for key, value in zip(ENVIRONMENT_METRICS, env, strict=True):
            if value is not None:
                sensors[key].append(value)
    counts["total"] = sum(counts.values())
    plant.live_last_update, plant.live_generation_kw = last_update, generation
    plant.live_paired_ac_kw, plant.live_paired_dc_kw = paired_ac, paired_dc
    environment = {
        key: _round(sum(sensors[key]) / len(sensors[key]), 2) if sensors[key] else None for key in ENVIRONMENT_METRICS
    }
    return plant, counts, environment


def plant_overview(*, plant: Plant, hours: int, now: datetime | None = None) -> PlantOverview:
    """Everything the dashboard's overview card shows, in a fixed number of queries (≈ 10,
    independent of the plant's device count): live figures, device states, environment sensors
    (mean of the fresh ones), today's energy and the peak of the last ``hours``."""
    now = now or timezone.now()
    annotated, counts, environment = _plant_live_states(plant=plant, now=now)
    start, end = series_window(hours=hours, now=now)
    series = [point for point in plant_power_series(plant=plant, start=start, end=end) if point.power_kw is not None]
    return PlantOverview(
        plant=plant,
        live=plant_live(plant=annotated, now=now),
        energy_today_kwh=plant_energy_today(plant=plant, now=now),
        environment=environment,
        devices=counts,
        window=(start, end),
        peak=max(series, key=lambda point: point.power_kw) if series else None,
        as_of=now,
    )


# --- one device's recent key metrics ----------------------------------------------------------------


@dataclass(frozen=True)
class DeviceHistory:
    units: dict[str, str]
    points: list[tuple[datetime, dict[str, float | None]]]


def device_key_metric_history(*, device: Device, start: datetime, end: datetime) -> DeviceHistory:
    """5-minute history of the device's key metrics that it actually reports (``rollups_read``:
    folded rollups plus the dirty tail). Gauges are the bucket mean, cumulative counters the
    bucket maximum (their last value while monotonic); status codes and bitfields are
    enumerations, not quantities, and are left to the status."""
    key_metrics = KEY_METRICS.get(device.type, ())
    reported = LatestValue.objects.filter(device_id=device.pk, metric__key__in=key_metrics).values_list("metric__key")
    specs = metric_ids_by_key(keys=[key for (key,) in reported]).items()
    metrics = {key: spec for key, spec in specs if spec[1] in (MetricKind.GAUGE, MetricKind.COUNTER)}
    keys = [key for key in key_metrics if key in metrics]
    rows = (
        rollups_read(
            device_ids=[device.pk],
            metric_ids={metrics[key][0] for key in keys},
            resolution=Resolution.FIVE_MINUTES,
            start=start,
            end=end,
            tz=plant_zone(device.plant),
        )
        if keys
        else {}
    )
    columns: dict[int, dict[datetime, float | None]] = defaultdict(dict)
    counters = {spec[0] for spec in metrics.values() if spec[1] == MetricKind.COUNTER}
    for (_device, metric_id, bucket), agg in rows.items():
        columns[metric_id][bucket] = _round(agg.max if metric_id in counters else agg.sum / agg.count)
    points = [
        (bucket, {key: columns[metrics[key][0]].get(bucket) for key in keys}) for bucket in bucket_starts(start, end)
    ]
    return DeviceHistory(units={key: metrics[key][2] for key in keys}, points=points)
