"""Folding dirty (device, UTC hour) marks into the rollup table.

Ingest marks every (device, hour) it writes to as dirty. The folder claims marks atomically,
recomputes from raw readings the twelve 5-minute and the hourly rollups of every metric of
each claimed hour, the energy of those hours and of the hours they influence, and the
plant-local daily rollups of every day touched — replacing the old rows.

Concurrency: on PostgreSQL marks are claimed with ``DELETE … FOR UPDATE SKIP LOCKED … RETURNING``,
so concurrent folders never take the same mark; a mark written again by ingest while a folder
works on it waits for the claim to commit and then re-marks the hour, so nothing is lost.
Folders then take a transaction-level advisory lock per device (in id order, so no deadlock):
two folders of one device serialise, and the second reads the rows the first committed when
it recomputes what they share (the local day, the energy of a neighbouring hour).
"""

from __future__ import annotations

import time as clock
import zlib
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from plants.models import Device

from ..choices import Resolution
from ..models import DirtyHour, LatestValue, Rollup
from ..signals import hours_folded
from .buckets import HOUR, Agg, day_bucket_of, day_parts, hours_between, local_day_bounds, runs_of, zone
from .compute import (
    FIVE_MINUTE_CTE,
    K_CTE,
    AggKey,
    aggregates_by_hour,
    energy_metric_ids,
    gauge_five_minute,
    k_params,
)
from .energy import COUNTER_KEY, ENERGY_KEY, POWER_KEY, energy_for_hours, energy_neighbours
from .plant_power import plant_power_refresh

BATCH = 500  # device-hours per transaction: short transactions, bounded memory
_LOCK_NAMESPACE = zlib.crc32(b"telemetry rollup fold") & 0x7FFFFFFF
_SQLITE_CHUNK = 200
_TINY = timedelta(microseconds=1)
_COLUMNS = "device_id, metric_id, resolution, bucket, count, sum, min, max, first, last, slots"
_UPSERT = (
    "ON CONFLICT (device_id, metric_id, resolution, bucket) DO UPDATE SET count = EXCLUDED.count, "
    "sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max, first = EXCLUDED.first, last = EXCLUDED.last, "
    "slots = EXCLUDED.slots"
)


# Deletes go by ctid: each key finds its rows by a fenced primary-key range scan (see
# FIVE_MINUTE_CTE for why the fence), then a TID scan removes exactly those rows. A plain
# DELETE … USING k is planned as a join that scans the rollup table.
_DELETE_HOURS = (
    f"WITH {K_CTE} DELETE FROM telemetry_rollup WHERE ctid = ANY(ARRAY("  # noqa: S608 -- constants only
    "SELECT x.ctid FROM k CROSS JOIN LATERAL (SELECT t.ctid FROM telemetry_rollup t "
    "WHERE t.device_id = k.device_id AND t.metric_id = k.metric_id AND t.resolution IN ('5min', 'hour') "
    "AND t.bucket >= k.hour AND t.bucket < k.hour + INTERVAL '1 hour' OFFSET 0) x))"
)


def rollups_fold(*, limit: int | None = None, budget_seconds: float | None = None) -> int:
    """Fold dirty hours, oldest mark first, in transactions of at most :data:`BATCH`, until none
    is left, ``limit`` device-hours are folded or ``budget_seconds`` have passed (so a beat run
    ends before the next one starts). Returns the number of device-hours folded. Idempotent and
    safe to run concurrently (see the module docstring)."""
    started = clock.monotonic()
    folded = 0
    while limit is None or folded < limit:
        size = BATCH if limit is None else min(BATCH, limit - folded)
        with transaction.atomic():
            marks = _claim(size)
            if not marks:
                break
            claimed = [(device_id, hour) for device_id, hour, _marked in marks]
            _fold(claimed)
            hours_folded.send(sender=rollups_fold, marks=marks)
        folded += len(claimed)
        if budget_seconds is not None and clock.monotonic() - started > budget_seconds:
            break
    return folded


def rollups_rebuild(*, device_ids: Sequence[int], start: datetime, end: datetime) -> int:
    """Mark every hour of ``[start, end)`` of these devices dirty, so the next fold recomputes
    (or clears) their rollups — after an import, a backfill or a change of the rules. Returns
    the number of device-hours marked."""
    hours = hours_between(start, end)
    device_ids = sorted(set(device_ids))
    if not hours or not device_ids:
        return 0
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO telemetry_dirtyhour (device_id, hour, marked_at) "
                "SELECT d, h, clock_timestamp() FROM unnest(%s::bigint[]) d, "
                "generate_series(%s::timestamptz, %s::timestamptz, INTERVAL '1 hour') h ORDER BY 1, 2 "
                "ON CONFLICT (device_id, hour) DO UPDATE SET marked_at = EXCLUDED.marked_at",
                [device_ids, hours[0], hours[-1]],
            )
        return len(hours) * len(device_ids)
    with transaction.atomic():
        for device_id in device_ids:
            for start_index in range(0, len(hours), 1000):
                DirtyHour.objects.bulk_create(
                    [DirtyHour(device_id=device_id, hour=hour) for hour in hours[start_index : start_index + 1000]],
                    ignore_conflicts=True,
                )
    return len(hours) * len(device_ids)


def _claim(size: int) -> list[tuple[int, datetime, datetime]]:
    """Take up to ``size`` marks, oldest first: (device, hour, marked_at)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM telemetry_dirtyhour WHERE (device_id, hour) IN ("
                "  SELECT device_id, hour FROM telemetry_dirtyhour ORDER BY marked_at"
                "  FOR UPDATE SKIP LOCKED LIMIT %s"
                ") RETURNING device_id, hour, marked_at",
                [size],
            )
            return list(cursor.fetchall())
    # SQLite has one writer at a time; a plain select + delete inside the transaction suffices.
    claimed = list(DirtyHour.objects.order_by("marked_at").values_list("device_id", "hour", "marked_at")[:size])
    keys = [(device_id, hour) for device_id, hour, _marked in claimed]
    for start in range(0, len(keys), _SQLITE_CHUNK):
        DirtyHour.objects.filter(pk__in=keys[start : start + _SQLITE_CHUNK]).delete()
    return claimed


def _fold(claimed: list[tuple[int, datetime]]) -> None:
    device_hours: dict[int, set[datetime]] = defaultdict(set)
    for device_id, hour in claimed:
        device_hours[device_id].add(hour)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, (d %% 2147483648)::int) "
                "FROM (SELECT unnest(%s::bigint[]) AS d ORDER BY 1) AS ordered",
                [_LOCK_NAMESPACE, sorted(device_hours)],
            )
    zones = {
        pk: zone(name) for pk, name in Device.objects.filter(id__in=device_hours).values_list("id", "plant__timezone")
    }
    device_hours = {d: hours for d, hours in device_hours.items() if d in zones}  # deleted devices: nothing to do
    metrics_of: dict[int, set[int]] = defaultdict(set)
    for device_id, metric_id in LatestValue.objects.filter(device_id__in=device_hours).values_list(
        "device_id", "metric_id"
    ):
        metrics_of[device_id].add(metric_id)

    ids = energy_metric_ids()
    if connection.vendor == "postgresql":
        _replace_gauges_postgres(device_hours, metrics_of)
    else:
        _replace_gauges_orm(device_hours, metrics_of)

    energy_id = ids.get(ENERGY_KEY)
    inputs = {ids.get(COUNTER_KEY), ids.get(POWER_KEY)}
    producing = {d: hours for d, hours in device_hours.items() if metrics_of[d] & inputs}
    energy_hours = energy_neighbours(device_hours=producing, metric_ids=ids) if producing else {}
    if energy_id is not None and energy_hours:
        energy = energy_for_hours(device_hours=energy_hours, metric_ids=ids)
        rows = {(d, energy_id, b): agg for (d, b), agg in energy.items()}
        _replace_rows(energy_hours, {d: [energy_id] for d in energy_hours}, rows)

    days: dict[tuple[int, datetime], set[int]] = defaultdict(set)
    for hours_of, metrics in ((device_hours, metrics_of), (energy_hours, None)):
        for device_id, hours in hours_of.items():
            tz = zones[device_id]
            for hour in hours:
                for day in {day_bucket_of(hour, tz), day_bucket_of(hour + HOUR - _TINY, tz)}:
                    days[(device_id, day)] |= metrics[device_id] if metrics is not None else {energy_id}
    _refresh_days(days, zones)
    power_id = ids.get(POWER_KEY)
    plant_power_refresh(device_hours={d: hours for d, hours in device_hours.items() if power_id in metrics_of[d]})


def _replace_gauges_postgres(device_hours: Mapping[int, set[datetime]], metrics_of: Mapping[int, set[int]]) -> None:
    """Two statements: delete the hours' 5-minute and hourly rows, insert the new ones computed
    in SQL (the hour composed from its twelve 5-minute buckets in the same statement)."""
    params = k_params(device_hours=device_hours, metrics_of=metrics_of)
    if not params["c_devices"]:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _DELETE_HOURS,
            params,
        )
        cursor.execute(
            f"WITH {FIVE_MINUTE_CTE}, "  # noqa: S608 -- constants only, values are parameters
            "hourly AS (SELECT device_id, metric_id, date_trunc('hour', bucket, 'UTC') AS hour, "
            "sum(count)::int AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max, "
            "(array_agg(first ORDER BY bucket))[1] AS first, (array_agg(last ORDER BY bucket DESC))[1] AS last, "
            "count(*)::int AS slots FROM five GROUP BY 1, 2, 3) "
            f"INSERT INTO telemetry_rollup ({_COLUMNS}) "
            "SELECT device_id, metric_id, '5min', bucket, count, sum, min, max, first, last, 1 FROM five "
            "UNION ALL SELECT device_id, metric_id, 'hour', hour, count, sum, min, max, first, last, slots FROM hourly "
            f"{_UPSERT}",
            params,
        )


def _replace_gauges_orm(device_hours: Mapping[int, set[datetime]], metrics_of: Mapping[int, set[int]]) -> None:
    _replace_rows(device_hours, metrics_of, gauge_five_minute(device_hours=device_hours, metrics_of=metrics_of))


def _replace_rows(
    device_hours: Mapping[int, Collection[datetime]],
    metrics_of: Mapping[int, Collection[int]],
    five: Mapping[AggKey, Agg],
    hourly: Mapping[AggKey, Agg] | None = None,
) -> None:
    """Replace the 5-minute and hourly rows of these metrics in these hours by ``five`` (and
    ``hourly``, composed from ``five`` when not given)."""
    if hourly is None:
        hourly = aggregates_by_hour(five.items())
    rows = [(d, m, Resolution.FIVE_MINUTES.value, b, *agg.as_tuple()) for (d, m, b), agg in five.items()]
    rows += [(d, m, Resolution.HOUR.value, b, *agg.as_tuple()) for (d, m, b), agg in hourly.items()]
    if connection.vendor == "postgresql":
        params = k_params(device_hours=device_hours, metrics_of=metrics_of)
        with connection.cursor() as cursor:
            cursor.execute(
                _DELETE_HOURS,
                params,
            )
        _insert_postgres(rows)
        return
    condition = Q()
    terms = 0
    for device_id, hours in device_hours.items():
        for run in runs_of(hours):
            condition |= Q(
                device_id=device_id,
                metric_id__in=list(metrics_of.get(device_id, ())),
                bucket__gte=run[0],
                bucket__lt=run[-1] + HOUR,
            )
            terms += 1
            if terms >= _SQLITE_CHUNK:
                _delete_orm(condition, [Resolution.FIVE_MINUTES, Resolution.HOUR])
                condition, terms = Q(), 0
    if terms:
        _delete_orm(condition, [Resolution.FIVE_MINUTES, Resolution.HOUR])
    Rollup.objects.bulk_create([_rollup(row) for row in rows], batch_size=500)


def _delete_orm(condition: Q, resolutions: list[str]) -> None:
    Rollup.objects.filter(condition, resolution__in=resolutions).delete()


def _rollup(row: tuple) -> Rollup:
    d, m, resolution, bucket, count, total, low, high, first, last, slots = row
    return Rollup(
        device_id=d,
        metric_id=m,
        resolution=resolution,
        bucket=bucket,
        count=count,
        sum=total,
        min=low,
        max=high,
        first=first,
        last=last,
        slots=slots,
    )


def _insert_postgres(rows: list[tuple]) -> None:
    """Binary COPY: the rows were deleted just before in this transaction and the device's
    advisory lock keeps other folders out, so no conflict can arise — and COPY avoids quoting
    thousands of values into one statement."""
    if not rows:
        return
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY telemetry_rollup ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int8", "int2", "varchar", "timestamptz", "int4", *["float8"] * 5, "int4"])
        for row in rows:
            copy.write_row(row)


def _refresh_days(days: Mapping[tuple[int, datetime], set[int]], zones: Mapping[int, object]) -> None:
    """Recompute the daily rows of ``(device, local-midnight bucket) → metrics`` from the rows of
    their day (hourly rows of whole hours, 5-minute rows of the edges — see ``day_parts``)."""
    keys: list[tuple[int, int, datetime, datetime, datetime, datetime]] = []
    for (device_id, day), metrics in days.items():
        tz = zones[device_id]
        lo, hi = local_day_bounds(day.astimezone(tz).date(), tz)
        hour_lo, hour_hi = day_parts(lo, hi)
        keys += [(device_id, metric_id, lo, hi, hour_lo, hour_hi) for metric_id in metrics if metric_id is not None]
    if not keys:
        return
    if connection.vendor == "postgresql":
        _refresh_days_postgres(keys)
    else:
        _refresh_days_orm(keys)


def _refresh_days_postgres(keys) -> None:
    """Each of the three parts is a primary-key range scan (device, metric, resolution, bucket),
    run per key behind a LATERAL … OFFSET 0 fence; an OR of them, or a flattened join, would scan
    the whole history of the (device, metric) or the whole table."""
    columns = [list(column) for column in zip(*keys, strict=True)]
    params = dict(zip(("devices", "metrics", "los", "his", "hlos", "hhis"), columns, strict=True))
    k = (
        "k(device_id, metric_id, lo, hi, hlo, hhi) AS (SELECT * FROM unnest(%(devices)s::bigint[], "
        "%(metrics)s::int[], %(los)s::timestamptz[], %(his)s::timestamptz[], %(hlos)s::timestamptz[], "
        "%(hhis)s::timestamptz[]))"
    )
    part = (
        "SELECT bucket, count, sum, min, max, first, last, slots FROM telemetry_rollup r "
        "WHERE r.device_id = k.device_id AND r.metric_id = k.metric_id AND r.resolution = '{resolution}' "
        "AND r.bucket >= k.{low} AND r.bucket < k.{high}"
    )
    parts = " UNION ALL ".join(
        part.format(resolution=resolution, low=low, high=high)
        for resolution, low, high in (("hour", "hlo", "hhi"), ("5min", "lo", "hlo"), ("5min", "hhi", "hi"))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {k} DELETE FROM telemetry_rollup WHERE ctid = ANY(ARRAY("  # noqa: S608 -- constants only
            "SELECT x.ctid FROM k CROSS JOIN LATERAL (SELECT t.ctid FROM telemetry_rollup t "
            "WHERE t.device_id = k.device_id AND t.metric_id = k.metric_id AND t.resolution = 'day' "
            "AND t.bucket = k.lo OFFSET 0) x))",
            params,
        )
        cursor.execute(
            f"WITH {k} "  # noqa: S608 -- constants only, values are parameters
            f"INSERT INTO telemetry_rollup ({_COLUMNS}) "
            "SELECT k.device_id, k.metric_id, 'day', k.lo, sum(p.count)::int, sum(p.sum), min(p.min), max(p.max), "
            "(array_agg(p.first ORDER BY p.bucket))[1], (array_agg(p.last ORDER BY p.bucket DESC))[1], "
            "sum(p.slots)::int "
            f"FROM k CROSS JOIN LATERAL ({parts} OFFSET 0) p GROUP BY k.device_id, k.metric_id, k.lo {_UPSERT}",
            params,
        )


def _refresh_days_orm(keys) -> None:
    by_key = {(d, m, lo): (lo, hi) for d, m, lo, hi, _, _ in keys}
    for start in range(0, len(keys), _SQLITE_CHUNK):
        chunk = keys[start : start + _SQLITE_CHUNK]
        condition = Q()
        for d, m, lo, hi, hour_lo, hour_hi in chunk:
            condition |= Q(
                device_id=d, metric_id=m, resolution=Resolution.HOUR, bucket__gte=hour_lo, bucket__lt=hour_hi
            )
            condition |= Q(
                device_id=d, metric_id=m, resolution=Resolution.FIVE_MINUTES, bucket__gte=lo, bucket__lt=hour_lo
            )
            condition |= Q(
                device_id=d, metric_id=m, resolution=Resolution.FIVE_MINUTES, bucket__gte=hour_hi, bucket__lt=hi
            )
        los = {(d, m): [] for d, m, *_ in chunk}
        for d, m, lo, *_ in chunk:
            los[(d, m)].append(lo)
        parts = []
        for d, m, bucket, *rest in Rollup.objects.filter(condition).values_list(
            "device_id", "metric_id", "bucket", "count", "sum", "min", "max", "first", "last", "slots"
        ):
            lo = next(lo for lo in los[(d, m)] if by_key[(d, m, lo)][0] <= bucket < by_key[(d, m, lo)][1])
            parts.append(((d, m, lo), bucket, Agg(*rest)))
        composed: dict[tuple[int, int, datetime], Agg] = {}
        for key, _bucket, agg in sorted(parts, key=lambda part: part[1]):
            if key in composed:
                composed[key].then(agg)
            else:
                composed[key] = agg.copy()
        delete = Q()
        for d, m, lo, *_ in chunk:
            delete |= Q(device_id=d, metric_id=m, bucket=lo)
        Rollup.objects.filter(delete, resolution=Resolution.DAY).delete()
        Rollup.objects.bulk_create(
            [_rollup((d, m, Resolution.DAY.value, lo, *agg.as_tuple())) for (d, m, lo), agg in composed.items()],
            batch_size=500,
        )
