"""The one ingest service behind every door (REST, CSV import, MQTT, simulator).

validate → resolve device and metric → (PostgreSQL) binary COPY into a per-session staging
table → ``INSERT … ON CONFLICT DO NOTHING`` (replays are idempotent) → update latest values →
mark the touched (device, hour) buckets dirty for the rollup folder. No model instances on the
hot path. SQLite takes the ORM path with the same behaviour.

One bad value never drops the good ones: every problem becomes an ``errors`` entry
``{index, field, message}`` and the rest is stored.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from psycopg import errors as psycopg_errors

from plants.models import Device
from solarhub.api.params import datetime_from_text
from solarhub.db import server_cursor

from .events import EventResult, store_events, validate_events
from .models import LatestValue, Metric, Reading
from .partitions import month_start, partitions_ensure
from .quality import latest_runs, merge_run

MAX_READINGS = 10_000
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    events: EventResult | None = None  # only when the batch carried events

    def reject(self, index: int, field_name: str, message: str, values: int = 1) -> None:
        self.rejected += values
        if len(self.errors) < 1000:  # bounded answer size; counts stay exact
            self.errors.append({"index": index, "field": field_name, "message": message})

    def as_dict(self) -> dict[str, Any]:
        body = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": self.errors,
        }
        if self.events is not None:
            body["events"] = self.events.as_dict()
        return body

    @property
    def stored_nothing(self) -> bool:
        """Something was sent, all of it rejected: no reading or event stored or already there."""
        events = self.events or EventResult()
        kept = self.accepted + self.duplicates + events.accepted + events.duplicates
        return kept == 0 and bool(self.rejected + events.rejected)

    def merge(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.errors.extend(other.errors[: max(0, 1000 - len(self.errors))])
        if other.events is not None:
            if self.events is None:
                self.events = EventResult()
            self.events.merge(other.events)


@dataclass(frozen=True)
class MetricSpec:
    id: int
    low: float | None
    high: float | None
    ingestible: bool


_catalog: dict[str, MetricSpec] | None = None
_catalog_loaded_at: datetime | None = None


def metric_catalog(refresh: bool = False) -> dict[str, MetricSpec]:
    """key → spec, cached per process for 60 s (the admin may add metrics)."""
    global _catalog, _catalog_loaded_at
    now = datetime.now(UTC)
    if refresh or _catalog is None or _catalog_loaded_at is None or now - _catalog_loaded_at > timedelta(seconds=60):
        _catalog = {
            key: MetricSpec(pk, low, high, kind != "derived")
            for pk, key, low, high, kind in Metric.objects.values_list("id", "key", "min_value", "max_value", "kind")
        }
        _catalog_loaded_at = now
    return _catalog


def parse_timestamp(raw: Any) -> datetime:
    """ISO 8601 with an offset or ``Z``, or Unix epoch seconds. Naive times are refused: a
    logger's local clock silently misplaced by hours is worse than a clear rejection."""
    if isinstance(raw, bool):
        raise ValueError("timestamp must be ISO 8601 or epoch seconds")
    if isinstance(raw, int | float):
        try:
            seconds = float(raw)
        except OverflowError:  # an int beyond any float
            raise ValueError("timestamp is out of range") from None
        if not math.isfinite(seconds):
            raise ValueError("timestamp must be finite")
        if not -MAX_EPOCH <= seconds <= MAX_EPOCH:  # datetime would overflow (a 500, once)
            raise ValueError("timestamp is out of range")
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, str) and len(raw) <= 40 and "\x00" not in raw:
        try:
            moment = datetime.fromisoformat(raw)  # C; the common "2024-01-01T12:00:00Z" shape
        except ValueError:
            moment = datetime_from_text(raw)
        if moment is None:
            raise ValueError("timestamp is not ISO 8601 (e.g. 2024-01-01T12:00:00Z)")
    else:
        raise ValueError("timestamp must be ISO 8601 or epoch seconds")
    if moment.tzinfo is None:
        raise ValueError("timestamp must include a UTC offset or Z")
    return moment.astimezone(UTC)


MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant a datetime holds
MAX_ID = 2**63 - 1  # ids are positive 64-bit integers
SERIAL_MAX_LENGTH = Device._meta.get_field("serial_number").max_length


def _id_of(raw: Any) -> int | None:
    """A device id as sent (an int or a string of digits), or None when it cannot be one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw <= MAX_ID else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 20 and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


def _text_of(raw: Any) -> str | None:
    """A serial number as sent, or None when no device can have it: NUL (PostgreSQL text cannot
    hold it), lone surrogates (not encodable), or longer than the column."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    text = str(raw) if isinstance(raw, str) or abs(raw) < 10**64 else ""
    if not text or "\x00" in text or len(text) > SERIAL_MAX_LENGTH:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


class DeviceResolver:
    """Resolves ``deviceId`` / ``serialNumber`` among the devices of ``plant_ids`` (a list or a
    lazy subquery of the plants the caller may write to), loading only the devices the batch
    names, in one query."""

    def __init__(self, plant_ids, readings: Sequence[Any] = ()):
        ids: set[int] = set()
        serials: set[str] = set()
        for reading in readings:
            if not isinstance(reading, dict):
                continue
            device_id = _id_of(reading.get("device_id", reading.get("deviceId")))
            if device_id is not None:
                ids.add(device_id)
            serial = _text_of(reading.get("serial_number", reading.get("serialNumber")))
            if serial is not None:
                serials.add(serial)
        rows = (
            Device.objects.filter(plant_id__in=plant_ids)
            .filter(Q(id__in=ids) | Q(serial_number__in=serials))
            .values_list("id", "plant_id", "serial_number")
            if ids or serials
            else []
        )
        self.by_id = {pk: plant for pk, plant, _ in rows}
        self.by_serial: dict[str, list[int]] = {}
        for pk, _plant, serial in rows:
            self.by_serial.setdefault(serial, []).append(pk)

    def resolve(self, reading: dict) -> int:
        device_id = reading.get("device_id", reading.get("deviceId"))
        serial = reading.get("serial_number", reading.get("serialNumber"))
        if device_id is not None:
            number = _id_of(device_id)
            if number is None:
                raise LookupError("deviceId must be a positive 64-bit integer")
            if number not in self.by_id:
                raise LookupError("unknown device")
            return number
        if serial is not None:
            text = _text_of(serial)
            if text is None:
                raise LookupError(
                    f"serialNumber must be text without NUL or lone surrogates, at most {SERIAL_MAX_LENGTH} characters"
                )
            matches = self.by_serial.get(text, [])
            if not matches:
                raise LookupError("unknown device")
            if len(matches) > 1:
                raise LookupError("serialNumber is ambiguous across your plants; send deviceId or plantId")
            return matches[0]
        raise LookupError("give deviceId or serialNumber")


_NO_LOW, _NO_HIGH = -sys.float_info.max, sys.float_info.max


def _bounds(catalog: dict[str, MetricSpec]) -> dict[str, tuple[int, float, float]]:
    """key → (id, low, high) of the ingestible metrics; a missing bound is the largest finite
    float, so one chained comparison also refuses NaN and infinities."""
    return {
        key: (spec.id, _NO_LOW if spec.low is None else spec.low, _NO_HIGH if spec.high is None else spec.high)
        for key, spec in catalog.items()
        if spec.ingestible
    }


def _bad_value(value: Any, catalog_spec: MetricSpec) -> str:
    """Why a value that failed the fast check is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "value must be a number"
    value = float(value)
    if not math.isfinite(value):
        return "value must be finite (no NaN or infinity)"
    lo = "-inf" if catalog_spec.low is None else f"{catalog_spec.low:g}"
    hi = "inf" if catalog_spec.high is None else f"{catalog_spec.high:g}"
    return f"value {value:g} outside the valid range [{lo}, {hi}]"


def validate_readings(
    readings: Iterable[Any], *, resolver: DeviceResolver, result: IngestResult, now: datetime | None = None
) -> list[tuple[int, int, datetime, float]]:
    """Rows ``(device_id, metric_id, ts, value)`` for every valid value; problems go to ``result``.
    The per-value path is one dict lookup, a type check and one chained comparison (half a
    million values per second and more); the reasons are worked out only for refused values."""
    catalog = metric_catalog()
    bounds = _bounds(catalog)
    latest_allowed = (now or datetime.now(UTC)) + FUTURE_TOLERANCE
    rows: list[tuple[int, int, datetime, float]] = []
    append = rows.append
    for index, reading in enumerate(readings):
        if not isinstance(reading, dict):
            result.reject(index, "", "each reading must be an object")
            continue
        metrics = reading.get("metrics")
        count = len(metrics) if isinstance(metrics, dict) else 1
        try:
            device_id = resolver.resolve(reading)
        except LookupError as exc:
            result.reject(index, "deviceId", str(exc), count)
            continue
        try:
            ts = parse_timestamp(reading.get("timestamp", reading.get("ts")))
        except ValueError as exc:
            result.reject(index, "timestamp", str(exc), count)
            continue
        if ts > latest_allowed:
            result.reject(index, "timestamp", "timestamp is in the future", count)
            continue
        if ts < EARLIEST:
            result.reject(index, "timestamp", "timestamp is before 2000-01-01", count)
            continue
        if not isinstance(metrics, dict) or not metrics:
            result.reject(index, "metrics", "metrics must be a non-empty object of key: number")
            continue
        for key, value in metrics.items():
            entry = bounds.get(key)
            if entry is None:
                result.reject(index, f"metrics.{key}", "unknown metric")
                continue
            metric_id, low, high = entry
            kind = type(value)
            if kind is int:
                try:
                    value = float(value)
                except OverflowError:  # beyond any float: out of every range
                    result.reject(index, f"metrics.{key}", "value is out of range")
                    continue
            elif kind is not float:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    result.reject(index, f"metrics.{key}", "value must be a number")
                    continue
                value = float(value)
            if not low <= value <= high:  # NaN and infinities fail it too
                result.reject(index, f"metrics.{key}", _bad_value(value, catalog[key]))
                continue
            append((device_id, metric_id, ts, value))
    return rows


def telemetry_ingest(*, plant_ids, readings: Sequence[Any], events: Sequence[Any] | None = None) -> IngestResult:
    """Validate and store ``readings`` (and device ``events``, see :mod:`telemetry.events`) for
    devices of ``plant_ids`` (the plants the caller may write to). Idempotent: a value already
    stored for (device, metric, ts) — an event for (device, ts, type, code) — is a duplicate."""
    result = IngestResult()
    resolver = DeviceResolver(plant_ids, [*readings, *events] if events else readings)
    if events is not None:
        result.events = EventResult()
        event_rows = validate_events(events, resolver=resolver, result=result.events)
        if event_rows:
            stored = store_events(event_rows)
            result.events.accepted = stored
            result.events.duplicates = len(event_rows) - stored
    rows = validate_readings(readings, resolver=resolver, result=result)
    rows = _dedupe(rows)
    if rows:
        inserted = store_rows(rows)
        result.accepted = inserted
        result.duplicates += len(rows) - inserted
        _announce(rows)
    return result


def _announce(rows: list[tuple[int, int, datetime, float]]) -> None:
    """Tell listeners (alarm evaluation) what was touched, once the rows are committed."""
    from .signals import readings_stored

    device_ids = {row[0] for row in rows}
    metric_ids = {row[1] for row in rows}
    times = [row[2] for row in rows]
    ts_min, ts_max = min(times), max(times)
    transaction.on_commit(
        lambda: readings_stored.send(
            sender=Reading, device_ids=device_ids, metric_ids=metric_ids, ts_min=ts_min, ts_max=ts_max
        )
    )


def _dedupe(rows: list[tuple[int, int, datetime, float]]) -> list[tuple[int, int, datetime, float]]:
    """The same key twice in one batch counts once (first value wins, as a replay would). Built
    in C: a dict from the rows in reverse, so the first occurrence is the one that stays."""
    backwards = rows[::-1]
    unique = dict(zip(map(_KEY, backwards), backwards, strict=True))
    return rows if len(unique) == len(rows) else list(unique.values())


_KEY = itemgetter(0, 1, 2)


def store_rows(rows: list[tuple[int, int, datetime, float]]) -> int:
    """Write validated rows; returns how many were new. Sorted by key so concurrent writers take
    unique-index locks in the same order (no deadlocks between overlapping batches)."""
    rows.sort()  # (device, metric, ts, value) tuples: the key order, compared in C (keys are unique)
    if connection.vendor == "postgresql":
        partitions_ensure({month_start(ts) for ts in {row[2] for row in rows}})  # per distinct ts, not per row
        if connection.in_atomic_block:  # inside the caller's transaction: the COPY goes in a savepoint
            with transaction.atomic():
                return _store_postgres(rows, savepoint=True)
        # Our own transaction: no savepoint (two round trips fewer). A COPY that hits stored keys
        # takes the transaction down with it; the idempotent path then runs in a fresh one.
        try:
            with transaction.atomic():
                return _store_postgres(rows, savepoint=False)
        except psycopg_errors.UniqueViolation:
            with transaction.atomic():
                return _store_postgres(rows, savepoint=False, conflict=True)
    with transaction.atomic():
        return _store_orm(rows)


_STAGE = "telemetry_stage"
_COPY_TYPES = ["int8", "int2", "timestamptz", "float8"]
_COPY_COLUMNS = "(device_id, metric_id, ts, value)"
# Rows from which a batch's sorts (the fallback INSERT's, the latest-value upsert's) may outgrow
# the default work_mem (4 MB held ~30,000 rows): above it, and on the idempotent path, the
# transaction raises work_mem so they stay in memory. A poll or a live push sends far fewer and
# saves the statement's round trip.
_SORT_IN_MEMORY_ROWS = 10_000


def _store_postgres(rows: list[tuple[int, int, datetime, float]], *, savepoint: bool, conflict: bool = False) -> int:
    """Fast path: binary COPY straight into ``telemetry_reading`` — new data, the normal case,
    costs what a raw COPY costs. A unique violation (a replay, an overlap, a concurrent writer of
    the same rows) rolls the COPY back (to its savepoint, or the whole transaction when there is
    none: it then raises, and the caller comes back with ``conflict``) and takes the idempotent
    path: COPY into a staging table, ``INSERT … ON CONFLICT DO NOTHING RETURNING`` the new keys.
    Latest values and dirty hours are then computed from the new rows in memory, not re-read."""
    with connection.cursor() as cursor:
        if conflict or len(rows) > _SORT_IN_MEMORY_ROWS:
            cursor.execute("SET LOCAL work_mem = '64MB'")
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        new = rows
        if conflict:
            new = _insert_new_rows(cursor, rows)
        else:
            try:
                # in a savepoint (when in the caller's transaction): a failed COPY leaves it usable
                with (
                    transaction.atomic() if savepoint else contextlib.nullcontext(),
                    raw.copy(f"COPY telemetry_reading {_COPY_COLUMNS} FROM STDIN (FORMAT BINARY)") as copy,
                ):
                    copy.set_types(_COPY_TYPES)
                    for row in rows:
                        copy.write_row(row)
            except psycopg_errors.UniqueViolation:
                if not savepoint:
                    raise
                new = _insert_new_rows(cursor, rows)
        if new:
            _mark_latest_and_dirty(cursor, new)
    return len(new)


def _insert_new_rows(cursor, rows: list[tuple[int, int, datetime, float]]) -> list[tuple[int, int, datetime, float]]:
    """The idempotent path: the rows whose key was not stored yet, inserted; returns them."""
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (device_id bigint, metric_id smallint, "
        "ts timestamptz, value double precision) ON COMMIT DELETE ROWS"
    )
    # ON COMMIT DELETE ROWS empties it at commit only: several calls inside one outer
    # transaction (imports, tests) must not re-insert the previous calls' rows.
    cursor.execute(f"TRUNCATE {_STAGE}")
    with cursor.cursor.copy(f"COPY {_STAGE} (device_id, metric_id, ts, value) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_COPY_TYPES)
        for row in rows:
            copy.write_row(row)
    # Epoch microseconds, not timestamptz: converting them back costs far less in Python.
    cursor.execute(
        f"INSERT INTO telemetry_reading (device_id, metric_id, ts, value) "  # noqa: S608
        f"SELECT device_id, metric_id, ts, value FROM {_STAGE} ORDER BY device_id, metric_id, ts "
        "ON CONFLICT DO NOTHING RETURNING device_id, metric_id, "
        "(extract(epoch FROM ts) * 1000000)::bigint"
    )
    inserted = cursor.fetchall()
    if len(inserted) == len(rows):
        return rows
    keys = {(d, m, us) for d, m, us in inserted}
    return [row for row in rows if (row[0], row[1], _epoch_us(row[2])) in keys]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


# Binary parameters (``%b``, bound on the server): psycopg's text array dumping of a 1,100-run
# batch took 6 ms in Python (3 of them the timestamps), binary 1.5.
# * Runs whose stored latest value is already as new (a replay, a backfill, a second poll in the
#   same slot) are left out before the insert: ``ON CONFLICT DO UPDATE … WHERE`` locks (and WAL-
#   logs the lock of) every conflicting row even when its WHERE then refuses the update. Skipping
#   on the snapshot is safe: a stored ``ts`` only ever grows.
# * ``whole`` is looked up with ``NOT IN`` over the (few) runs that are not whole: an
#   uncorrelated subquery PostgreSQL hashes once. The correlated lookup it replaces scanned the
#   batch for every updated row whose value repeated — 90 of 100 ms for 1,100 flat values.
# * The dirty hours ride along in the same statement (one round trip, not two); every writer runs
#   this one statement, each table's rows in key order, so concurrent writers still lock in the
#   same order (PostgreSQL runs an unreferenced data-modifying CTE to completion after the main
#   INSERT). clock_timestamp(), not now(): two ingests inside one outer transaction must
#   leave different marks (readers cache real-time figures under the newest mark, see
#   live.plant_energy_today).
_LATEST_AND_DIRTY_UPSERT = """
WITH b(device_id, metric_id, ts, value, repeats, since, whole) AS (
    SELECT * FROM unnest(%b::bigint[], %b::smallint[], %b::timestamptz[], %b::float8[], %b::int[],
                         %b::timestamptz[], %b::bool[])
), dirty AS (
    INSERT INTO telemetry_dirtyhour (device_id, hour, marked_at)
    SELECT d, h, clock_timestamp() FROM unnest(%b::bigint[], %b::timestamptz[]) AS u(d, h) ORDER BY 1, 2
    ON CONFLICT (device_id, hour) DO UPDATE SET marked_at = EXCLUDED.marked_at
)
INSERT INTO telemetry_latestvalue AS lv (device_id, metric_id, ts, value, repeats, repeat_since)
SELECT device_id, metric_id, ts, value, repeats, since FROM b
WHERE NOT EXISTS (
    SELECT FROM telemetry_latestvalue s
    WHERE s.device_id = b.device_id AND s.metric_id = b.metric_id AND s.ts >= b.ts
)
ORDER BY device_id, metric_id
ON CONFLICT (device_id, metric_id) DO UPDATE SET
    ts = EXCLUDED.ts,
    value = EXCLUDED.value,
    repeats = CASE WHEN lv.value = EXCLUDED.value AND lv.ts < EXCLUDED.repeat_since
                        AND (EXCLUDED.device_id, EXCLUDED.metric_id) NOT IN (SELECT device_id, metric_id FROM b
                                                                             WHERE NOT whole)
                   THEN lv.repeats + EXCLUDED.repeats ELSE EXCLUDED.repeats END,
    repeat_since = CASE WHEN lv.value = EXCLUDED.value AND lv.ts < EXCLUDED.repeat_since
                        AND (EXCLUDED.device_id, EXCLUDED.metric_id) NOT IN (SELECT device_id, metric_id FROM b
                                                                             WHERE NOT whole)
                   THEN coalesce(lv.repeat_since, lv.ts) ELSE EXCLUDED.repeat_since END
WHERE lv.ts < EXCLUDED.ts
"""


def _mark_latest_and_dirty(cursor, new: list[tuple[int, int, datetime, float]]) -> None:
    """Latest values (with their runs of equal values, ``telemetry.quality``) and the dirty
    (device, UTC hour)s of the new rows, computed in memory: one statement, in key order
    (concurrent writers lock rows in the same order), bound on the server with binary arrays."""
    hours = sorted(_dirty_hours(new))
    with server_cursor() as bound:
        bound.execute(_LATEST_AND_DIRTY_UPSERT, [*_latest_columns(new), [d for d, _ in hours], [h for _, h in hours]])


def _latest_columns(new: list[tuple[int, int, datetime, float]]) -> list[list]:
    """The upsert's arrays from ``new`` (sorted by key). A batch with one row per (device,
    metric) — a poll, a live push — is its own list of runs (each row one reading long, whole):
    its columns are taken straight from the rows, without a :class:`LatestRun` per key (1 ms
    of the 50-device poll's ingest)."""
    if len(set(map(_PAIR, new))) == len(new):
        times = [row[2] for row in new]
        return [
            [row[0] for row in new], [row[1] for row in new], times, [row[3] for row in new],
            [1] * len(new), times, [True] * len(new),
        ]  # fmt: skip
    runs = latest_runs(new)
    return [
        [run.device_id for run in runs], [run.metric_id for run in runs], [run.ts for run in runs],
        [run.value for run in runs], [run.repeats for run in runs], [run.since for run in runs],
        [run.whole for run in runs],
    ]  # fmt: skip


_PAIR = itemgetter(0, 1)


def _dirty_hours(rows: list[tuple[int, int, datetime, float]]) -> set[tuple[int, datetime]]:
    """Distinct (device, UTC hour) of ``rows``: the floor is taken per distinct (device, ts), not
    per row (a batch has ten or more metrics per timestamp)."""
    return {
        (d, ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)) for d, ts in {(r[0], r[2]) for r in rows}
    }


def _store_orm(rows: list[tuple[int, int, datetime, float]]) -> int:
    """SQLite: the same semantics through the ORM (existing keys found first, in chunks)."""
    from .models import DirtyHour

    keys = {(d, m, ts) for d, m, ts, _ in rows}
    existing: set[tuple[int, int, datetime]] = set()
    devices = {row[0] for row in rows}
    times = [row[2] for row in rows]
    for key in Reading.objects.filter(device_id__in=devices, ts__gte=min(times), ts__lte=max(times)).values_list(
        "device_id", "metric_id", "ts"
    ):
        if key in keys:
            existing.add(key)
    new = [row for row in rows if row[:3] not in existing]
    # executemany with Django's own datetime adaptation: model instances per row cost 35-85 us
    # each, which made seeding a demo week on SQLite take most of a minute.
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT OR IGNORE INTO telemetry_reading (device_id, metric_id, ts, value) VALUES (%s, %s, %s, %s)",
            [(d, m, adapt(ts), v) for d, m, ts, v in new],
        )
    for run in latest_runs(new):
        current = LatestValue.objects.filter(device_id=run.device_id, metric_id=run.metric_id).first()
        if current is None:
            LatestValue.objects.create(
                device_id=run.device_id,
                metric_id=run.metric_id,
                ts=run.ts,
                value=run.value,
                repeats=run.repeats,
                repeat_since=run.since,
            )
        elif current.ts < run.ts:
            repeats, since = merge_run(
                stored_ts=current.ts,
                stored_value=current.value,
                stored_repeats=current.repeats,
                stored_since=current.repeat_since,
                run=run,
            )
            LatestValue.objects.filter(device_id=run.device_id, metric_id=run.metric_id).update(
                ts=run.ts, value=run.value, repeats=repeats, repeat_since=since
            )
    for d, hour in _dirty_hours(new):
        DirtyHour.objects.update_or_create(device_id=d, hour=hour)
    return len(new)


def ingest_limits() -> tuple[int, int]:
    return MAX_READINGS, settings.TELEMETRY_MAX_BODY_BYTES
