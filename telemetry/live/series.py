"""Recent series: 5-minute buckets from the rollups plus the not-yet-folded raw tail, and the
plant power curve (the plant power rollup, inverters summed in SQL for hours still dirty)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Avg, Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import ExtractMinute, Floor, TruncHour
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from plants.choices import DeviceType
from plants.models import Device, Plant

from ..choices import Resolution
from ..models import DirtyHour, PlantPower, Reading, Rollup
from ..rollups.buckets import runs_of
from ..selectors import metric_info
from .status import BUCKET, rounded


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
    info = metric_info()
    return {key: (info[key].id, info[key].kind, info[key].unit) for key in keys if key in info}


def inverter_ids(plant: Plant) -> QuerySet:
    return Device.objects.filter(plant_id=plant.pk, type=DeviceType.INVERTER).values("id")


def _plant_power(*, plant: Plant, metric_id: int, start: datetime, end: datetime) -> dict[datetime, tuple[float, int]]:
    """bucket start → (plant power, inverters reporting): the plant power rollup (one row per
    bucket, ``telemetry.rollups.plant_power``) for the hours every inverter has folded, and
    :func:`summed_series_5min` over the inverters for the hours one of them has not (that
    hour's plant row is stale) — normally the last hour or two."""
    inverters = inverter_ids(plant)
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
        points.append(PowerPoint(bucket, rounded(power), devices))
    return points
