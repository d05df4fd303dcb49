"""Energy per bucket — the derived metric ``energy_produced`` (kWh).

Semantics (what reports, dashboards and forecasts rely on):

* **Counter first.** A 5-minute bucket uses the ``energy_total`` counter when the device has a
  counter reading within one hour of the bucket (either side). Each pair of consecutive counter
  readings yields a delta: ``new - previous``, or ``new`` itself when the counter went down (a
  reset: the energy since the reset). A delta over at most one hour is spread over the buckets
  between the two readings in proportion to time; a delta over a longer gap lands whole in the
  bucket where the reading arrives — never spread over the gap, never invented. The first
  reading ever has no reference and yields nothing.
* **Power integral otherwise.** Without a counter near the bucket, the trapezoid integral of
  ``ac_power`` (kW) over the bucket, with readings linearly interpolated at bucket edges; two
  readings more than 15 minutes apart are not integrated across.
* ``sum`` is the energy; ``count`` the number of counter intervals or power segments used;
  ``min``/``max``/``first``/``last`` describe those per-piece energies. Buckets with nothing to
  use have no row (a gap, shown as null). Hours and days are exact sums of 5-minute buckets.

A reading therefore influences buckets up to one hour either side (mode and spreading) and the
bucket of the next counter reading (its reference): :func:`energy_neighbours` gives the hours
the folder and the real-time readers must recompute with an hour.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from django.db import connection
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from ..models import Reading
from .buckets import EPOCH, FIVE_MINUTES, HOUR, Agg, floor_five, runs_of

COUNTER_KEY = "energy_total"
POWER_KEY = "ac_power"
ENERGY_KEY = "energy_produced"
COUNTER_SPREAD_MAX = HOUR  # longer counter gaps land whole where the reading arrives
COUNTER_NEAR = HOUR  # a counter reading this close to a bucket makes it a counter bucket
POWER_GAP_MAX = timedelta(minutes=15)  # power readings further apart are not integrated across
# Runs of wanted hours closer than this share one fetch window (windows reach 1 h either side).
_CLUSTER_GAP = 3 * HOUR
_SQLITE_CHUNK = 250

Sample = tuple[datetime, float]


@dataclass
class EnergyInput:
    """Everything needed for one device's wanted buckets: counter readings in the window, the
    counter value before it (the reference for the first delta) and power readings."""

    device_id: int
    buckets: list[datetime]
    reference: float | None = None
    counter: list[Sample] = field(default_factory=list)
    power: list[Sample] = field(default_factory=list)


def energy_buckets(
    *, wanted: Sequence[datetime], reference: float | None, counter: Sequence[Sample], power: Sequence[Sample]
) -> dict[datetime, Agg]:
    """Energy of each wanted 5-minute bucket from time-ordered counter and power samples (see the
    module docstring). ``reference`` is the counter value of the reading before ``counter[0]``,
    far enough back (more than an hour before the window) that its delta lands whole."""
    if not wanted:
        return {}
    buckets = sorted(set(wanted))
    lo, hi = buckets[0], buckets[-1] + FIVE_MINUTES
    counter_pieces: dict[datetime, list[float]] = defaultdict(list)
    previous: tuple[datetime | None, float] | None = (None, reference) if reference is not None else None
    for ts, value in counter:
        if previous is not None:
            prev_ts, prev_value = previous
            delta = value - prev_value if value >= prev_value else value
            if prev_ts is not None and ts - prev_ts <= COUNTER_SPREAD_MAX:
                _spread(counter_pieces, prev_ts, ts, delta, lo, hi)
            elif lo <= ts < hi:
                counter_pieces[floor_five(ts)].append(delta)
        previous = (ts, value)

    power_pieces: dict[datetime, list[float]] = defaultdict(list)
    for (t0, p0), (t1, p1) in pairwise(power):
        if t1 - t0 <= POWER_GAP_MAX and t1 > lo and t0 < hi:
            _integrate(power_pieces, t0, p0, t1, p1, lo, hi)

    counter_times = [ts for ts, _ in counter]
    result: dict[datetime, Agg] = {}
    for bucket in buckets:
        index = bisect_left(counter_times, bucket - COUNTER_NEAR)
        near = index < len(counter_times) and counter_times[index] < bucket + FIVE_MINUTES + COUNTER_NEAR
        pieces = (counter_pieces if near else power_pieces).get(bucket)
        if pieces:
            result[bucket] = Agg.of_values(pieces)
    return result


def _spread(
    pieces: dict[datetime, list[float]], t0: datetime, t1: datetime, delta: float, lo: datetime, hi: datetime
) -> None:
    span = (t1 - t0).total_seconds()
    bucket = max(floor_five(t0), lo)
    while bucket < min(t1, hi):
        overlap = (min(t1, bucket + FIVE_MINUTES) - max(t0, bucket)).total_seconds()
        if overlap > 0:
            pieces[bucket].append(delta * overlap / span)
        bucket += FIVE_MINUTES


def _integrate(
    pieces: dict[datetime, list[float]], t0: datetime, p0: float, t1: datetime, p1: float, lo: datetime, hi: datetime
) -> None:
    span = (t1 - t0).total_seconds()

    def power_at(moment: datetime) -> float:
        return p0 + (p1 - p0) * (moment - t0).total_seconds() / span

    bucket = max(floor_five(t0), lo)
    while bucket < min(t1, hi):
        a, b = max(t0, bucket), min(t1, bucket + FIVE_MINUTES)
        if b > a:
            pieces[bucket].append((power_at(a) + power_at(b)) / 2 * (b - a).total_seconds() / 3600)
        bucket += FIVE_MINUTES


def energy_for_hours(
    *, device_hours: Mapping[int, Collection[datetime]], metric_ids: Mapping[str, int]
) -> dict[tuple[int, datetime], Agg]:
    """Energy of every 5-minute bucket of the given UTC hours, keyed ``(device_id, bucket)``.
    Two queries however many devices and hours (samples, then references)."""
    inputs = _energy_inputs(device_hours, metric_ids)
    result: dict[tuple[int, datetime], Agg] = {}
    for item in inputs:
        for bucket, agg in energy_buckets(
            wanted=item.buckets, reference=item.reference, counter=item.counter, power=item.power
        ).items():
            result[(item.device_id, bucket)] = agg
    return result


def _energy_inputs(
    device_hours: Mapping[int, Collection[datetime]], metric_ids: Mapping[str, int]
) -> list[EnergyInput]:
    counter_id, power_id = metric_ids.get(COUNTER_KEY, -1), metric_ids.get(POWER_KEY, -1)
    inputs: list[EnergyInput] = []
    for device_id, hours in sorted(device_hours.items()):
        for run in runs_of(hours, max_gap=_CLUSTER_GAP):
            buckets = [hour + n * FIVE_MINUTES for hour in run for n in range(12)]
            inputs.append(EnergyInput(device_id=device_id, buckets=buckets))
    if not inputs:
        return inputs
    windows = [
        (item.device_id, item.buckets[0] - COUNTER_NEAR, item.buckets[-1] + FIVE_MINUTES + COUNTER_NEAR)
        for item in inputs
    ]
    if connection.vendor == "postgresql":
        rows, references = _fetch_postgres(windows, counter_id, power_id)
    else:
        rows, references = _fetch_orm(windows, counter_id, power_id)
    for index, metric_id, ts, value in sorted(rows, key=lambda row: (row[0], row[2])):
        target = inputs[index].counter if metric_id == counter_id else inputs[index].power
        target.append((ts, value))
    for index, value in references.items():
        inputs[index].reference = value
    return inputs


def _fetch_postgres(windows, counter_id: int, power_id: int):
    """One statement: the samples of every window (primary-key range scans per device and
    metric, partitions pruned at run time) and, per window, the last counter value before it
    (a backward index scan with LIMIT 1 — PostgreSQL walks the partitions newest first)."""
    params = {
        "idx": list(range(len(windows))),
        "devices": [w[0] for w in windows],
        "los": [w[1] for w in windows],
        "his": [w[2] for w in windows],
        "counter": counter_id,
        "power": power_id,
    }
    sql = """
        WITH w(idx, device_id, lo, hi) AS (
            SELECT * FROM unnest(%(idx)s::int[], %(devices)s::bigint[], %(los)s::timestamptz[], %(his)s::timestamptz[])
        )
        SELECT w.idx, r.metric_id, (extract(epoch FROM r.ts) * 1000000)::bigint, r.value
        FROM w CROSS JOIN LATERAL (
            SELECT r.metric_id, r.ts, r.value FROM telemetry_reading r
            WHERE r.device_id = w.device_id AND r.metric_id IN (%(counter)s, %(power)s)
              AND r.ts >= w.lo AND r.ts < w.hi
            OFFSET 0  -- a fence: one primary-key range scan per window (see compute.FIVE_MINUTE_CTE)
        ) r
        UNION ALL
        SELECT w.idx, -1, NULL, ref.value
        FROM w CROSS JOIN LATERAL (
            SELECT r.value FROM telemetry_reading r
            WHERE r.device_id = w.device_id AND r.metric_id = %(counter)s AND r.ts < w.lo
            ORDER BY r.ts DESC LIMIT 1
        ) ref
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    # Times come as epoch microseconds: Django's timestamptz loader (Python, per value) was most
    # of the real-time energy tail's time on a dashboard load.
    rows = [
        (idx, metric, EPOCH + timedelta(microseconds=us), value) for idx, metric, us, value in fetched if metric != -1
    ]
    references = {row[0]: row[3] for row in fetched if row[1] == -1}
    return rows, references


def _fetch_orm(windows, counter_id: int, power_id: int):
    """SQLite: the same two reads, the reference as a correlated subquery per window."""
    rows: list[tuple[int, int, datetime, float]] = []
    references: dict[int, float] = {}
    by_device: dict[int, list[tuple[int, datetime, datetime]]] = defaultdict(list)
    for index, (device_id, lo, hi) in enumerate(windows):
        by_device[device_id].append((index, lo, hi))
    for start in range(0, len(windows), _SQLITE_CHUNK):
        chunk = list(enumerate(windows))[start : start + _SQLITE_CHUNK]
        condition = Q()
        for _, (device_id, lo, hi) in chunk:
            condition |= Q(device_id=device_id, ts__gte=lo, ts__lt=hi)
        for device_id, metric_id, ts, value in Reading.objects.filter(
            condition, metric_id__in=[counter_id, power_id]
        ).values_list("device_id", "metric_id", "ts", "value"):
            for index, lo, hi in by_device[device_id]:
                if lo <= ts < hi:
                    rows.append((index, metric_id, ts, value))
                    break
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params: list = []
        for index, (device_id, lo, _hi) in chunk:
            params += [index, device_id, connection.ops.adapt_datetimefield_value(lo)]
        sql = (
            f"WITH w(idx, device_id, lo) AS (VALUES {values}) "  # noqa: S608 -- placeholders only
            "SELECT w.idx, (SELECT r.value FROM telemetry_reading r WHERE r.device_id = w.device_id "
            "AND r.metric_id = %s AND r.ts < w.lo ORDER BY r.ts DESC LIMIT 1) FROM w"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, counter_id])
            references.update({index: value for index, value in cursor.fetchall() if value is not None})
    return rows, references


def energy_neighbours(
    *, device_hours: Mapping[int, Collection[datetime]], metric_ids: Mapping[str, int]
) -> dict[int, set[datetime]]:
    """The hours whose energy may change when readings of ``device_hours`` change: each hour, the
    hour either side, and the hour of the first counter reading after each run (whose delta uses
    the run's last counter reading as its reference). One query."""
    counter_id = metric_ids.get(COUNTER_KEY, -1)
    result: dict[int, set[datetime]] = defaultdict(set)
    afters: list[tuple[int, datetime]] = []
    for device_id, hours in device_hours.items():
        for hour in hours:
            result[device_id].update((hour - HOUR, hour, hour + HOUR))
        for run in runs_of(hours):
            afters.append((device_id, run[-1] + HOUR))
    for device_id, ts in _next_counter(afters, counter_id):
        result[device_id].add(ts.replace(minute=0, second=0, microsecond=0))
    return dict(result)


def _next_counter(afters: list[tuple[int, datetime]], counter_id: int) -> list[tuple[int, datetime]]:
    if not afters:
        return []
    if connection.vendor == "postgresql":
        sql = """
            WITH w(device_id, after) AS (SELECT * FROM unnest(%s::bigint[], %s::timestamptz[]))
            SELECT w.device_id, nxt.ts FROM w CROSS JOIN LATERAL (
                SELECT r.ts FROM telemetry_reading r
                WHERE r.device_id = w.device_id AND r.metric_id = %s AND r.ts >= w.after
                ORDER BY r.ts LIMIT 1
            ) nxt
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [[a[0] for a in afters], [a[1] for a in afters], counter_id])
            return list(cursor.fetchall())
    found: list[tuple[int, datetime]] = []
    for start in range(0, len(afters), _SQLITE_CHUNK):
        chunk = afters[start : start + _SQLITE_CHUNK]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        params: list = []
        for device_id, after in chunk:
            params += [device_id, connection.ops.adapt_datetimefield_value(after)]
        sql = (
            f"WITH w(device_id, after) AS (VALUES {values}) "  # noqa: S608 -- placeholders only
            "SELECT w.device_id, (SELECT min(r.ts) FROM telemetry_reading r WHERE r.device_id = w.device_id "
            "AND r.metric_id = %s AND r.ts >= w.after) FROM w"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, counter_id])
            for device_id, ts in cursor.fetchall():
                if ts is not None:
                    moment = ts if isinstance(ts, datetime) else parse_datetime(ts)
                    found.append((device_id, moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment))
    return found
