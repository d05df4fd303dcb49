"""5-minute aggregates computed from raw readings, and the real-time read of the rollups.

The folder and the readers use the same computation: the folder writes it, a reader computes
it on the fly for hours not folded yet (Timescale's real-time aggregate idea, by hand). So a
query before folding answers exactly what it answers after.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q

from solarhub.db import server_cursor

from ..choices import Resolution
from ..ingest import FUTURE_TOLERANCE, metric_catalog
from ..models import DirtyHour, Reading, Rollup
from .buckets import (
    EPOCH,
    HOUR,
    Agg,
    compose,
    day_bucket_of,
    day_parts,
    floor_five,
    floor_hour,
    local_day_bounds,
    runs_of,
)
from .energy import COUNTER_KEY, ENERGY_KEY, POWER_KEY, energy_for_hours, energy_neighbours

AggKey = tuple[int, int, datetime]  # (device_id, metric_id, bucket)

# (device, metric, hour) keys to work on, sent as (device, hour) and (device, metric) pairs —
# not their product, which would be far larger to send — and joined in the database.
K_CTE = """
    c(device_id, hour) AS (SELECT * FROM unnest(%(c_devices)s::bigint[], %(c_hours)s::timestamptz[])),
    dm(device_id, metric_id) AS (SELECT * FROM unnest(%(m_devices)s::bigint[], %(m_metrics)s::smallint[])),
    k AS (SELECT c.device_id, dm.metric_id, c.hour FROM c JOIN dm ON dm.device_id = c.device_id)
"""
# The raw → 5-minute aggregation. Each ``k`` row reads its readings by a primary-key range scan
# on (device_id, metric_id, ts), partitions pruned at run time. The LATERAL subquery with
# OFFSET 0 is an optimisation fence: flattened into a plain join, the planner parameterises the
# scan by the device alone (or hashes the whole table), reading every metric of the device in
# the partition once per hour — quadratic in a backfill.
FIVE_MINUTE_CTE = (
    K_CTE  # noqa: S608 -- constants only
    + """,
    five AS (
        SELECT k.device_id, k.metric_id, date_bin('5 minutes', r.ts, TIMESTAMPTZ 'epoch') AS bucket,
               count(*)::int AS count, sum(r.value) AS sum, min(r.value) AS min, max(r.value) AS max,
               (array_agg(r.value ORDER BY r.ts))[1] AS first,
               (array_agg(r.value ORDER BY r.ts DESC))[1] AS last
        FROM k CROSS JOIN LATERAL (
            SELECT r.ts, r.value FROM telemetry_reading r
            WHERE r.device_id = k.device_id AND r.metric_id = k.metric_id
              AND r.ts >= k.hour AND r.ts < k.hour + INTERVAL '1 hour'
            OFFSET 0
        ) r
        GROUP BY 1, 2, 3
    )
"""
)
_FIVE_MINUTE_SELECT = (
    f"WITH {FIVE_MINUTE_CTE} SELECT device_id, metric_id, bucket, count, sum, min, max, first, last FROM five"  # noqa: S608 -- constants only
)


def k_params(*, device_hours: Mapping[int, Collection[datetime]], metrics_of: Mapping[int, Collection[int]]) -> dict:
    """The arrays of :data:`K_CTE`; empty ``c_devices`` when there is nothing to do."""
    c_devices, c_hours, m_devices, m_metrics = [], [], [], []
    for device_id, hours in device_hours.items():
        metrics = metrics_of.get(device_id, ())
        if not metrics:
            continue
        for hour in hours:
            c_devices.append(device_id)
            c_hours.append(hour)
        for metric_id in metrics:
            m_devices.append(device_id)
            m_metrics.append(metric_id)
    return {"c_devices": c_devices, "c_hours": c_hours, "m_devices": m_devices, "m_metrics": m_metrics}


def energy_metric_ids() -> dict[str, int]:
    """Ids of the metrics energy is made of (cached catalog, no query most of the time)."""
    catalog = metric_catalog()
    return {key: catalog[key].id for key in (COUNTER_KEY, POWER_KEY, ENERGY_KEY) if key in catalog}


def gauge_five_minute(
    *, device_hours: Mapping[int, Collection[datetime]], metrics_of: Mapping[int, Collection[int]]
) -> dict[AggKey, Agg]:
    """count/sum/min/max/first/last of every (device, metric, 5-minute bucket) in the given
    hours, from raw readings. SQL aggregation on PostgreSQL, Python on SQLite."""
    if not any(metrics_of.get(device_id) for device_id in device_hours):
        return {}
    if connection.vendor == "postgresql":
        params = k_params(device_hours=device_hours, metrics_of=metrics_of)
        if not params["c_devices"]:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(_FIVE_MINUTE_SELECT, params)
            return {(d, m, b): Agg(*rest) for d, m, b, *rest in cursor.fetchall()}
    terms = [
        Q(device_id=device_id, metric_id__in=list(metrics_of.get(device_id, ())), ts__gte=run[0], ts__lt=run[-1] + HOUR)
        for device_id, hours in device_hours.items()
        for run in runs_of(hours)
    ]
    values: dict[AggKey, list[float]] = defaultdict(list)
    for condition in or_chunks(terms):
        rows = Reading.objects.filter(condition).order_by("device_id", "metric_id", "ts")
        for device_id, metric_id, ts, value in rows.values_list("device_id", "metric_id", "ts", "value"):
            values[(device_id, metric_id, floor_five(ts))].append(value)
    return {key: Agg.of_values(items) for key, items in values.items()}


def or_chunks(terms: Sequence[Q], size: int = 200) -> Iterator[Q]:
    """OR-ed conditions in chunks: SQLite refuses expressions nested deeper than 1,000 levels."""
    for start in range(0, len(terms), size):
        condition = Q()
        for term in terms[start : start + size]:
            condition |= term
        yield condition


def five_minute(
    *, device_hours: Mapping[int, Collection[datetime]], metrics_of: Mapping[int, Collection[int]]
) -> dict[AggKey, Agg]:
    """Gauges and, when asked for, ``energy_produced`` of the given hours (5-minute buckets)."""
    ids = energy_metric_ids()
    energy_id = ids.get(ENERGY_KEY)
    gauges = {d: [m for m in metrics if m != energy_id] for d, metrics in metrics_of.items()}
    result = gauge_five_minute(device_hours=device_hours, metrics_of=gauges)
    energy_hours = {d: hours for d, hours in device_hours.items() if energy_id in metrics_of.get(d, ())}
    if energy_hours:
        for (device_id, bucket), agg in energy_for_hours(device_hours=energy_hours, metric_ids=ids).items():
            result[(device_id, energy_id, bucket)] = agg
    return result


def dirty_hours(*, device_ids: Sequence[int], before: datetime) -> dict[int, set[datetime]]:
    """Hours of these devices not folded yet (one query)."""
    result: dict[int, set[datetime]] = defaultdict(set)
    rows = DirtyHour.objects.filter(device_id__in=device_ids, hour__lt=before).values_list("device_id", "hour")
    for device_id, hour in rows:
        result[device_id].add(hour)
    return result


def rollups_read(
    *,
    device_ids: Sequence[int],
    metric_ids: Collection[int],
    resolution: str,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
) -> dict[AggKey, Agg]:
    """Aggregates of every stored bucket starting in ``[start, end)`` at ``resolution`` (5min,
    hour, or day — then ``start``/``end`` are local midnights in ``tz``), never stale: buckets of
    hours still dirty are recomputed from raw readings, and for ``energy_produced`` also the
    hours a dirty hour can influence (:func:`energy_neighbours`). A constant number of queries
    whatever the number of devices or points."""
    rows = rollups_read_rows(
        device_ids=device_ids, metric_ids=metric_ids, resolution=resolution, start=start, end=end, tz=tz
    )
    return {(row[0], row[1], from_epoch(row[2])): Agg(*row[3:]) for row in rows}


def to_epoch(moment: datetime) -> int:
    """Whole seconds since the Unix epoch (bucket starts are whole seconds)."""
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


# A rollup row as the readers get it: (device, metric, bucket start in epoch seconds, then the
# fields asked for, by default count, sum, min, max, first, last, slots) — a plain tuple, straight
# from the database driver.
RollupRow = tuple
ALL_FIELDS = ("count", "sum", "min", "max", "first", "last", "slots")
# Fields a reader may ask for: the SQL over a rollup row, and how to take it from the stored
# column order (ALL_FIELDS) in Python. ``single``: the bucket's one value when every reading
# carried the same (min = max), else NULL — what flat-line detection needs, in one column.
# Every column fetched costs (720 rows: ~0.2 ms each), so a series asks for no more than it uses.
_FIELD_SQL = {name: name for name in ALL_FIELDS} | {"single": "CASE WHEN min = max THEN min END"}
_FIELD_FILLER = {"count": "0", "slots": "0"}  # the dirty-hour rows' placeholders (floats otherwise)


def _projector(fields: tuple[str, ...]):
    """``(count, sum, min, max, first, last, slots)`` → the ``fields`` of it, as a tuple."""
    if fields == ALL_FIELDS:
        return tuple
    getters = [
        (lambda v: v[2] if v[2] == v[3] else None) if name == "single" else itemgetter(ALL_FIELDS.index(name))
        for name in fields
    ]
    return lambda values: tuple(get(values) for get in getters)


def _stored_rollups(
    *, device_ids, metric_ids: set[int], resolution: str, start: datetime, end: datetime, fields: tuple[str, ...]
) -> list[RollupRow]:
    """The stored rows, through the ORM (SQLite, or device ids given as a subquery)."""
    stored = Rollup.objects.filter(
        resolution=resolution, device_id__in=device_ids, metric_id__in=metric_ids, bucket__gte=start, bucket__lt=end
    ).values_list("device_id", "metric_id", "bucket", *ALL_FIELDS)
    project = _projector(fields)
    return [(d, m, to_epoch(bucket), *project(rest)) for d, m, bucket, *rest in stored]


@lru_cache(maxsize=16)
def _dirty_and_stored_sql(fields: tuple[str, ...]) -> str:
    """The devices' dirty hours (as rows of metric 0, which no metric has) and the stored rollup
    rows with ``fields``, in one statement; buckets as integers — Django's timestamptz loader
    (Python, per value) was most of a 720-point series' time."""
    fillers = "".join(f", {_FIELD_FILLER.get(name, '0.0::float8')}" for name in fields)
    columns = "".join(f", {_FIELD_SQL[name]}" for name in fields)
    return (
        f"SELECT device_id, 0::smallint, extract(epoch FROM hour)::bigint{fillers} "  # noqa: S608 -- constants only
        "FROM telemetry_dirtyhour WHERE device_id = ANY(%s::bigint[]) AND hour < %s "
        "UNION ALL "
        f"SELECT device_id, metric_id, extract(epoch FROM bucket)::bigint{columns} "
        "FROM telemetry_rollup WHERE resolution = %s AND device_id = ANY(%s::bigint[]) "
        "AND metric_id = ANY(%s::int[]) AND bucket >= %s AND bucket < %s"
    )


def _dirty_and_stored_postgres(
    *,
    device_ids,
    metric_ids: set[int],
    resolution: str,
    start: datetime,
    end: datetime,
    dirty_before: datetime,
    fields: tuple[str, ...],
) -> tuple[dict[int, set[datetime]], list[RollupRow]]:
    """The devices' dirty hours and the stored rows (as the driver returns them: no Python
    object per row). A 30-day series is then three queries: the user, the device, this."""
    with server_cursor(binary=True) as cursor:
        cursor.execute(
            _dirty_and_stored_sql(fields),
            [list(device_ids), dirty_before, resolution, list(device_ids), list(metric_ids), start, end],
        )
        fetched = cursor.fetchall()
    dirty: dict[int, set[datetime]] = defaultdict(set)
    if any(row[1] == 0 for row in fetched):
        for row in fetched:
            if row[1] == 0:
                dirty[row[0]].add(from_epoch(row[2]))
        fetched = [row for row in fetched if row[1] != 0]
    return dirty, fetched


def rollups_read_epoch(
    *,
    device_ids: Sequence[int],
    metric_ids: Collection[int],
    resolution: str,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
) -> dict[tuple[int, int, int], Agg]:
    """:func:`rollups_read` keyed ``(device, metric, bucket start in epoch seconds)``: no
    datetime per stored row."""
    rows = rollups_read_rows(
        device_ids=device_ids, metric_ids=metric_ids, resolution=resolution, start=start, end=end, tz=tz
    )
    return {(row[0], row[1], row[2]): Agg(*row[3:]) for row in rows}


def rollups_read_rows(
    *,
    device_ids: Sequence[int],
    metric_ids: Collection[int],
    resolution: str,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    fields: tuple[str, ...] = ALL_FIELDS,
) -> list[RollupRow]:
    """What :func:`rollups_read` answers, as :data:`RollupRow` tuples ``(device, metric, bucket
    epoch, *fields)``, one per device, metric and bucket, in no particular order — the series
    readers' form: without dirty hours in the range, the rows are the driver's own tuples."""
    metric_ids = set(metric_ids)
    ids = energy_metric_ids()
    energy_id = ids.get(ENERGY_KEY)
    # No reading lies beyond now + ingest's future tolerance, so no tail hour needs computing
    # past it (today's energy would otherwise recompute the hour after the current one).
    horizon = floor_hour(datetime.now(UTC) + FUTURE_TOLERANCE) + HOUR
    span_lo, span_hi = floor_hour(start), min(end, horizon)
    if connection.vendor == "postgresql" and isinstance(device_ids, list | tuple | set | frozenset):
        dirty, stored = _dirty_and_stored_postgres(
            device_ids=device_ids,
            metric_ids=metric_ids,
            resolution=resolution,
            start=start,
            end=end,
            dirty_before=end + HOUR,
            fields=fields,
        )
    else:
        dirty = dirty_hours(device_ids=device_ids, before=end + HOUR)
        stored = _stored_rollups(
            device_ids=device_ids, metric_ids=metric_ids, resolution=resolution, start=start, end=end, fields=fields
        )
    tails: dict[bool, dict[int, set[datetime]]] = {False: {}, True: {}}  # is energy → device → hours
    if metric_ids - {energy_id}:
        tails[False] = {d: {h for h in hours if span_lo <= h < span_hi} for d, hours in dirty.items()}
    if energy_id in metric_ids and dirty:
        tails[True] = {
            d: {h for h in hours if span_lo <= h < span_hi}
            for d, hours in energy_neighbours(device_hours=dirty, metric_ids=ids).items()
        }
    # "Covered by the tail" in epoch seconds, per stored row without a datetime.
    tail_epochs = {
        is_energy: {d: {to_epoch(h) for h in hours} for d, hours in tail.items() if hours}
        for is_energy, tail in tails.items()
    }
    if not any(tail_epochs[False].values()) and not any(tail_epochs[True].values()):
        return stored

    def in_tail(device_id: int, metric_id: int, hour: datetime) -> bool:
        return hour in tails[metric_id == energy_id].get(device_id, ())

    tail_days: dict[int, set[datetime]] = defaultdict(set)
    for tail in tails.values():
        for device_id, hours in tail.items():
            for hour in hours:
                tail_days[device_id].update({day_bucket_of(hour, tz), day_bucket_of(hour + HOUR - _TINY, tz)})
    day_epochs = {d: {to_epoch(day) for day in days} for d, days in tail_days.items()}

    result: list[RollupRow] = []
    for row in stored:
        device_id, metric_id, bucket = row[0], row[1], row[2]
        if resolution == Resolution.DAY:
            covered = bucket in day_epochs.get(device_id, ())
        else:
            covered = bucket - bucket % 3600 in tail_epochs[metric_id == energy_id].get(device_id, ())
        if not covered:
            result.append(row)

    tail_hours = _merge_tails(tails)
    computed = five_minute(device_hours=tail_hours, metrics_of=dict.fromkeys(tail_hours, metric_ids))
    computed = {key: agg for key, agg in computed.items() if in_tail(key[0], key[1], floor_hour(key[2]))}
    if resolution == Resolution.FIVE_MINUTES:
        found = {key: agg for key, agg in computed.items() if start <= key[2] < end}
    elif resolution == Resolution.HOUR:
        hourly = compose((((d, m), b, agg) for (d, m, b), agg in computed.items()), floor_hour)
        found = {(d, m, b): agg for ((d, m), b), agg in hourly.items() if start <= b < end}
    else:
        found = _recompose_days(tail_days, metric_ids, computed, in_tail, tz, start, end)
    project = _projector(fields)
    result.extend((d, m, to_epoch(b), *project(agg.as_tuple())) for (d, m, b), agg in found.items())
    return result


_TINY = timedelta(microseconds=1)


def _merge_tails(tails: Mapping[bool, Mapping[int, set[datetime]]]) -> dict[int, set[datetime]]:
    merged: dict[int, set[datetime]] = defaultdict(set)
    for tail in tails.values():
        for device_id, hours in tail.items():
            merged[device_id] |= hours
    return {d: hours for d, hours in merged.items() if hours}


def _recompose_days(tail_days, metric_ids, computed, in_tail, tz: ZoneInfo, start: datetime, end: datetime):
    """Days holding a tail hour, rebuilt from their parts: stored hourly rows of whole hours and
    stored 5-minute rows of the edges (for +05:30-like zones), except tail hours, which come
    from ``computed``. One query for the stored parts (per 200 device-days)."""
    terms: list[Q] = []
    bounds: dict[tuple[int, datetime], tuple[datetime, datetime]] = {}
    for device_id, days in tail_days.items():
        for day in days:
            if not start <= day < end:
                continue
            lo, hi = local_day_bounds(day.astimezone(tz).date(), tz)
            hour_lo, hour_hi = day_parts(lo, hi)
            bounds[(device_id, day)] = (lo, hi)
            terms += [
                Q(device_id=device_id, resolution=Resolution.HOUR, bucket__gte=hour_lo, bucket__lt=hour_hi),
                Q(device_id=device_id, resolution=Resolution.FIVE_MINUTES, bucket__gte=lo, bucket__lt=hour_lo),
                Q(device_id=device_id, resolution=Resolution.FIVE_MINUTES, bucket__gte=hour_hi, bucket__lt=hi),
            ]
    if not bounds:
        return {}
    parts: list[tuple[tuple[int, int], datetime, Agg]] = []
    for condition in or_chunks(terms, size=600):
        stored = Rollup.objects.filter(condition, metric_id__in=metric_ids).values_list(
            "device_id", "metric_id", "bucket", "count", "sum", "min", "max", "first", "last", "slots"
        )
        for device_id, metric_id, bucket, *rest in stored:
            if not in_tail(device_id, metric_id, floor_hour(bucket)):
                parts.append(((device_id, metric_id), bucket, Agg(*rest)))
    for (device_id, metric_id, bucket), agg in computed.items():
        parts.append(((device_id, metric_id), bucket, agg))
    days = compose(parts, lambda bucket: day_bucket_of(bucket, tz))
    return {(d, m, day): agg for ((d, m), day), agg in days.items() if (d, day) in bounds}


def aggregates_by_hour(rows: Iterable[tuple[AggKey, Agg]]) -> dict[AggKey, Agg]:
    """Hourly composition of 5-minute aggregates (the folder's ORM path)."""
    hourly = compose((((d, m), b, agg) for (d, m, b), agg in rows), floor_hour)
    return {(d, m, b): agg for ((d, m), b), agg in hourly.items()}
