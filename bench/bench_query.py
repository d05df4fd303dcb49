"""Read latency on a big telemetry store: a 30-day hourly series over HTTP against raw SQL over the
rollup table, and the dashboard overview of a 100-device plant.

Store, built in a scratch PostgreSQL database created and dropped here: one plant (time zone
America/Los_Angeles) with 100 devices (96 inverters, 2 weather stations, 2 meters), 8 metrics each,
90 days at 5-minute steps up to now = 20.7M readings, generated in SQL (``generate_series``) into
the partitioned ``telemetry_reading`` (partitions from ``telemetry.partitions.partitions_ensure``),
two sessions in parallel, one plant-local day per statement; latest values from the last readings.
Rollups: the project's ``telemetry.rollups`` when it exists (``rollups_rebuild`` marks every hour
dirty, ``rollups_fold`` folds them in two threads), else SQL here with the same semantics (5-minute,
hourly and plant-local daily rows with count/sum/min/max/first/last/slots, hours composed from 5-minute
buckets and days from hours, ``energy_produced`` from the ``energy_total`` counter) — on this store
identical, row for row, to what the project's folder writes; ``BENCH_ROLLUPS=sql`` picks it (a
much faster build; the plant power rollup the folder also keeps is then recomputed by the project's
``telemetry.rollups.plant_power.plant_power_rebuild``). Then ``VACUUM (ANALYZE)`` of the rollup
table and ``ANALYZE`` (autovacuum may be off on bench machines). The build time is printed.

Measured, sequentially from one ``http.client`` connection against gunicorn (2 sync workers, the
developer settings, locmem cache, throttles raised), warm-up first:

* ``GET /api/devices/{id}/timeseries?metric=ac_power&timeRange=30d&resolution=hour`` (Bearer JWT
  of the plant's owner), over 96 inverters in turn; interleaved with the baseline, the same 720
  hours read by psycopg from ``telemetry_rollup`` (``sum / count`` per bucket). p50/p95 and the p50
  ratio; targets p50 <= 20 ms and <= 3 x baseline.
* ``GET /api/dashboard/overview?plantId=`` for the plant; p50/p95; target p95 <= 50 ms.
* For reading the figures: ``GET /health/live`` on the same server (HTTP + Django floor).

A route that does not resolve yet is reported as not run; the baseline runs regardless. Not a
test: asserts nothing.

Environment: ``DATABASE_URL`` (postgres:// on loopback; only server and credentials are used),
``BENCH_REQUESTS`` (default 300 per URL, after 30 warm-up), ``BENCH_DAYS`` (default 90),
``BENCH_JOBS`` (build sessions, default 2), ``BENCH_ROLLUPS`` (``auto``, ``sql`` or ``project``),
``BENCH_PROFILE=1`` (cProfile of the endpoints even when they meet their targets; they are
profiled anyway when they miss), ``BENCH_KEEP=1`` (keep the store in ``solarhub_bench_query_kept``
and reuse it next time: for profiling a change; a reused store's data ends when it was built).
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, gunicorn, libpq_url, median, percentile, route_exists, scratch_django

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
WARMUP = 30
DAYS = int(os.environ.get("BENCH_DAYS", "90"))
JOBS = int(os.environ.get("BENCH_JOBS", "2"))
ROLLUPS = os.environ.get("BENCH_ROLLUPS", "auto")
PROFILE = os.environ.get("BENCH_PROFILE", "") not in {"", "0", "false", "no"}
TIMEZONE = "America/Los_Angeles"
SERIES_HOURS = 30 * 24
TARGET_P50_MS, TARGET_RATIO, TARGET_DASHBOARD_P95_MS = 20.0, 3.0, 50.0
STEP = timedelta(minutes=5)

# (device type, how many, [(metric, value kind, scale, base)]); 8 metrics per device.
# Kinds: power = scale x sun x noise; counter = base + scale x integral of the sun curve (kWh);
# level = scale + base x noise; temp = scale + base x sun + noise; status = 4 by day, 8 at night.
INVERTER = [
    ("ac_power", "power", 100.0, 0.0),
    ("dc_power", "power", 103.0, 0.0),
    ("energy_total", "counter", 100.0, 50_000.0),
    ("internal_temp", "temp", 25.0, 25.0),
    ("frequency", "level", 60.0, 0.05),
    ("ac_voltage_l1", "level", 277.0, 4.0),
    ("pv1_voltage", "temp", 600.0, 150.0),
    ("pv1_current", "power", 15.0, 0.0),
]
WEATHER = [
    ("irradiance_poa", "power", 1000.0, 0.0),
    ("irradiance_ghi", "power", 900.0, 0.0),
    ("module_temp", "temp", 12.0, 35.0),
    ("ambient_temp", "temp", 12.0, 12.0),
    ("wind_speed", "level", 4.0, 6.0),
    ("internal_temp", "temp", 20.0, 10.0),
    ("status_code", "status", 0.0, 0.0),
    ("event_bits", "level", 0.0, 0.0),
]
METER = [
    ("export_power", "power", 9_000.0, 0.0),
    ("import_power", "level", 20.0, 10.0),
    ("export_energy", "counter", 9_000.0, 2_000_000.0),
    ("import_energy", "counter", 20.0, 30_000.0),
    ("frequency", "level", 60.0, 0.05),
    ("ac_voltage_l1", "level", 277.0, 4.0),
    ("ac_voltage_l2", "level", 277.0, 4.0),
    ("ac_voltage_l3", "level", 277.0, 4.0),
]
FLEET = [("inverter", 96, INVERTER), ("weather_station", 2, WEATHER), ("meter", 2, METER)]

# Local hour of day as a fraction, the clear-sky curve, and the integral of the curve so far today.
_SUN = f"""
    SELECT ts, greatest(0.0, sin(pi() * (h - 6) / 12)) AS sun,
           ((ts AT TIME ZONE '{TIMEZONE}')::date - %(first_day)s::date) * 24 / pi()
             + 12 / pi() * (1 - cos(pi() * least(12.0, greatest(0.0, h - 6)) / 12)) AS energy
    FROM (SELECT ts, extract(hour FROM ts AT TIME ZONE '{TIMEZONE}')
                     + extract(minute FROM ts AT TIME ZONE '{TIMEZONE}') / 60.0 AS h
          FROM generate_series(%(lo)s::timestamptz, %(hi)s::timestamptz - interval '5 minutes',
                               interval '5 minutes') AS ts) AS steps
"""
READINGS_SQL = f"""
INSERT INTO telemetry_reading (device_id, metric_id, ts, value)
SELECT s.device_id, s.metric_id, t.ts,
       CASE s.kind
         WHEN 'power' THEN s.scale * t.sun * (0.9 + 0.1 * random())
         WHEN 'counter' THEN s.base + s.scale * t.energy
         WHEN 'temp' THEN s.scale + s.base * t.sun + 2 * random()
         WHEN 'status' THEN CASE WHEN t.sun > 0 THEN 4 ELSE 8 END
         ELSE s.scale + s.base * (random() - 0.5)
       END
FROM ({_SUN}) AS t CROSS JOIN bench_series AS s
ORDER BY t.ts, s.device_id, s.metric_id
"""
# first/last without ordered aggregates: min/max of (epoch, value) pairs.
_AGG = """count(*) AS count, sum(value) AS sum, min(value) AS min, max(value) AS max,
          (min(ARRAY[date_part('epoch', ts), value]))[2] AS first,
          (max(ARRAY[date_part('epoch', ts), value]))[2] AS last"""
_COMPOSE = """sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
              (min(ARRAY[date_part('epoch', bucket), first]))[2] AS first,
              (max(ARRAY[date_part('epoch', bucket), last]))[2] AS last, sum(slots) AS slots"""
_COLUMNS = "device_id, metric_id, resolution, bucket, count, sum, min, max, first, last, slots"
# One plant-local day [lo, hi): 5-minute buckets from the readings, hours from the 5-minute
# buckets, the day from the hours (the plant's zone has whole-hour offsets). energy_produced as
# telemetry/rollups/energy.py defines it, for this store's regular 5-minute counter readings: the
# delta to the next reading (the next value itself after a drop, a reset) belongs to the bucket
# between the two readings; the last reading yields nothing yet.
ROLLUPS_SQL = f"""
WITH raw AS (
    SELECT device_id, metric_id, ts, value FROM telemetry_reading
    WHERE ts >= %(lo)s AND ts < %(hi)s::timestamptz + interval '1 hour'
),
energy AS (
    SELECT device_id, %(produced)s::smallint AS metric_id, ts,
           CASE WHEN following >= value THEN following - value ELSE following END AS value
    FROM (SELECT device_id, ts, value, lead(value) OVER (PARTITION BY device_id ORDER BY ts) AS following
          FROM raw WHERE metric_id = %(counter)s) AS counter
    WHERE following IS NOT NULL AND ts < %(hi)s
),
source AS (
    SELECT device_id, metric_id, ts, value FROM raw WHERE ts < %(hi)s
    UNION ALL SELECT device_id, metric_id, ts, value FROM energy
),
five AS (
    SELECT device_id, metric_id, date_bin('5 minutes', ts, timestamptz '2000-01-01') AS bucket, {_AGG}, 1 AS slots
    FROM source GROUP BY 1, 2, 3
),
hour AS (SELECT device_id, metric_id, date_trunc('hour', bucket) AS bucket, {_COMPOSE} FROM five GROUP BY 1, 2, 3),
day AS (SELECT device_id, metric_id, %(lo)s::timestamptz AS bucket, {_COMPOSE} FROM hour GROUP BY 1, 2),
written AS (
    INSERT INTO telemetry_rollup ({_COLUMNS})
    SELECT device_id, metric_id, '5min', bucket, count, sum, min, max, first, last, slots FROM five
    UNION ALL SELECT device_id, metric_id, 'hour', bucket, count, sum, min, max, first, last, slots FROM hour
    UNION ALL SELECT device_id, metric_id, 'day', bucket, count, sum, min, max, first, last, slots FROM day
    RETURNING 1
)
SELECT count(*) FROM written
"""
SERIES_BASELINE_SQL = """
SELECT bucket, sum / count AS value FROM telemetry_rollup
WHERE resolution = 'hour' AND device_id = %s AND metric_id = %s AND bucket >= %s AND bucket < %s
ORDER BY bucket
"""


# --- the store ----------------------------------------------------------------------------------


def local_days(first_day: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[lo, hi) in UTC for each plant-local day from ``first_day`` (local midnight) to ``end``."""
    zone = ZoneInfo(TIMEZONE)
    days, day = [], first_day.astimezone(zone).date()
    while True:
        lo = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        if lo >= end:
            return days
        day += timedelta(days=1)
        hi = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        days.append((lo, min(hi, end)))


def parallel(database_url: str, statement: str, jobs: list[dict]) -> int:
    """Run ``statement`` once per parameter dict on JOBS sessions; returns the summed row counts."""
    import psycopg

    pending = list(reversed(jobs))
    lock = threading.Lock()
    total = [0]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
                conn.execute("SET work_mem = '256MB'")
                conn.execute("SET jit = off")
                conn.execute("SET TIME ZONE 'UTC'")
                while True:
                    with lock:
                        if not pending or errors:
                            return
                        params = pending.pop()
                    cursor = conn.execute(statement, params)
                    count = cursor.fetchone()[0] if cursor.description else cursor.rowcount
                    with lock:
                        total[0] += count
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the main thread
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(max(1, JOBS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return total[0]


def build_plant() -> tuple[int, dict[str, list[int]], dict[str, int], str]:
    """The plant, its devices and the owner's access token."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.services import user_create
    from plants.models import Device
    from solarhub.testing.personas import make_plant
    from telemetry.models import Metric

    owner = user_create(email="bench-owner@example.com", password=None, username="bench-owner")
    plant = make_plant(name="Bench query plant", owner=owner, timezone=TIMEZONE, total_power_output_kw=9_600.0)
    devices: dict[str, list[int]] = {}
    for kind, count, _ in FLEET:
        Device.objects.bulk_create(
            Device(
                plant=plant,
                type=kind,
                name=f"{kind.replace('_', ' ').title()} {n + 1}",
                serial_number=f"{kind[:3].upper()}-{n:04d}",
                capacity_kw=100.0 if kind == "inverter" else None,
            )
            for n in range(count)
        )
        devices[kind] = list(Device.objects.filter(plant=plant, type=kind).order_by("id").values_list("id", flat=True))
    metric_ids = dict(Metric.objects.values_list("key", "id"))
    token = RefreshToken.for_user(owner).access_token
    token.set_exp(lifetime=timedelta(hours=6))  # outlives the build; lifetime costs nothing per request
    return plant.pk, devices, metric_ids, str(token)


def reuse_plant() -> tuple[int, dict[str, list[int]], dict[str, int], str] | None:
    """With BENCH_KEEP: the plant of an earlier run's kept store, if there is one."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from plants.models import Device, Plant
    from telemetry.models import Metric

    if not os.environ.get("BENCH_KEEP"):
        return None
    plant = Plant.objects.filter(name="Bench query plant").first()
    owner = User.objects.filter(username="bench-owner").first()
    if plant is None or owner is None:
        return None
    devices = {
        kind: list(Device.objects.filter(plant=plant, type=kind).order_by("id").values_list("id", flat=True))
        for kind, _, _ in FLEET
    }
    token = RefreshToken.for_user(owner).access_token
    token.set_exp(lifetime=timedelta(hours=6))
    return plant.pk, devices, dict(Metric.objects.values_list("key", "id")), str(token)


def reused_store(database_url: str) -> dict:
    """What :func:`build_store` reports, read back from a kept store (its end lies in the past:
    the overview's window holds less data than on a fresh store)."""
    import psycopg

    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        end = conn.execute("SELECT max(ts) FROM telemetry_latestvalue").fetchone()[0]
        readings = conn.execute("SELECT sum(reltuples)::bigint FROM pg_class WHERE relname LIKE 'telemetry_reading_y%'")
        rollups = conn.execute("SELECT resolution, count(*) FROM telemetry_rollup GROUP BY 1 ORDER BY 1").fetchall()
        return {
            "end": end + STEP,
            "days": DAYS,
            "readings": readings.fetchone()[0] or 0,
            "rollups": dict(rollups),
            "rollup_source": f"a kept store (BENCH_KEEP), built earlier, ending {end:%Y-%m-%d %H:%M} UTC",
            "timings": {},
            "size": "kept",
            "rollup_size": "kept",
        }


def build_store(database_url: str, devices: dict[str, list[int]], metric_ids: dict[str, int]) -> dict:
    import psycopg

    from telemetry.partitions import month_start, partitions_ensure

    zone = ZoneInfo(TIMEZONE)
    now = datetime.now(UTC)
    end = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    first_local = (end.astimezone(zone) - timedelta(days=DAYS)).date()
    first_day = datetime(first_local.year, first_local.month, first_local.day, tzinfo=zone).astimezone(UTC)
    days = local_days(first_day, end)
    months, moment = set(), first_day
    while moment <= end:
        months.add(month_start(moment))
        moment += timedelta(days=1)
    partitions_ensure(months)

    series = [
        (device_id, metric_ids[key], kind, scale, base)
        for device_type, _, metrics in FLEET
        for device_id in devices[device_type]
        for key, kind, scale, base in metrics
    ]
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_series (device_id bigint, metric_id smallint, kind text, scale float8, base float8)"
        )
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_series VALUES (%s, %s, %s, %s, %s)", series)
        conn.execute("ANALYZE bench_series")

    timings = {}
    started = time.perf_counter()
    params = [{"lo": lo, "hi": hi, "first_day": first_local} for lo, hi in days]
    readings = parallel(database_url, READINGS_SQL, params)
    timings["readings"] = time.perf_counter() - started

    # Latest values as ingest leaves them (the folder learns a device's metrics from them).
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO telemetry_latestvalue (device_id, metric_id, ts, value) "
            "SELECT DISTINCT ON (device_id, metric_id) device_id, metric_id, ts, value FROM telemetry_reading "
            "WHERE ts >= %s ORDER BY device_id, metric_id, ts DESC "
            "ON CONFLICT (device_id, metric_id) DO UPDATE SET ts = EXCLUDED.ts, value = EXCLUDED.value",
            [end - timedelta(hours=1)],
        )
        conn.execute("DROP TABLE bench_series")
        conn.execute("ANALYZE")

    started = time.perf_counter()
    all_devices = [device_id for ids in devices.values() for device_id in ids]
    rollup_source = fold_rollups(database_url, days, metric_ids, all_devices)
    if "SQL" in rollup_source:
        rollup_source += plant_power_after_sql(days)
    timings["rollups"] = time.perf_counter() - started

    started = time.perf_counter()
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        expected = len(series) * len(hours_of(days))
        hours = conn.execute("SELECT count(*) FROM telemetry_rollup WHERE resolution = 'hour'").fetchone()[0]
        if hours < expected:
            raise SystemExit(f"the rollups hold {hours:,} hourly rows; {expected:,} expected ({rollup_source})")
        conn.execute("VACUUM (ANALYZE) telemetry_rollup")
        conn.execute("ANALYZE")
        rollups = conn.execute("SELECT resolution, count(*) FROM telemetry_rollup GROUP BY 1 ORDER BY 1").fetchall()
        size = conn.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
            "WHERE c.relname LIKE 'telemetry_reading_y%' AND c.relkind = 'r'"
        ).fetchone()[0]
        rollup_size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('telemetry_rollup'))").fetchone()[0]
    timings["VACUUM ANALYZE"] = time.perf_counter() - started
    return {
        "end": end,
        "first_day": first_day,
        "days": len(days),
        "readings": readings,
        "rollups": dict(rollups),
        "rollup_source": rollup_source,
        "timings": timings,
        "size": size,
        "rollup_size": rollup_size,
    }


def plant_power_after_sql(days: list[tuple[datetime, datetime]]) -> str:
    """Rollups written by SQL bypass the folder, which also keeps the plant power rollup (the
    overview's power curve): the project's ``plant_power_rebuild`` recomputes it, as an operator
    would after a bulk load. Nothing to do for a project without one."""
    try:
        module = importlib.import_module("telemetry.rollups.plant_power")
    except ImportError:
        return ""
    from plants.models import Plant

    for plant_id in Plant.objects.filter(name="Bench query plant").values_list("id", flat=True):
        module.plant_power_rebuild(plant_id=plant_id, start=days[0][0], end=days[-1][1])
    return "; plant power by telemetry.rollups.plant_power.plant_power_rebuild"


def hours_of(days: list[tuple[datetime, datetime]]) -> list[datetime]:
    """The UTC hours of the store (the plant's zone has whole-hour offsets)."""
    lo, hi = days[0][0], days[-1][1]
    return [lo + timedelta(hours=n) for n in range(int((hi - lo).total_seconds() // 3600))]


def fold_rollups(
    database_url: str, days: list[tuple[datetime, datetime]], metric_ids: dict[str, int], device_ids: list[int]
) -> str:
    """The project's folder if there is one (and BENCH_ROLLUPS allows), else the SQL above."""
    import psycopg

    module = None
    if ROLLUPS != "sql":
        try:
            module = importlib.import_module("telemetry.rollups")
        except ImportError:
            module = None
        if not (hasattr(module, "rollups_fold") and hasattr(module, "rollups_rebuild")):
            module = None
            if ROLLUPS == "project":
                raise SystemExit("BENCH_ROLLUPS=project but telemetry.rollups has no rollups_fold/rollups_rebuild")
    if module is not None:
        note = fold_with_project(database_url, module, days, device_ids)
        if note is None:
            return f"the project's telemetry.rollups (rollups_rebuild, then rollups_fold in {JOBS} threads)"
        if ROLLUPS == "project":
            raise SystemExit(f"telemetry.rollups: {note}")
        with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
            conn.execute("TRUNCATE telemetry_rollup, telemetry_dirtyhour")
        print(f"note: the project's rollups_fold could not build the store ({note}); using the SQL rollups")
    jobs = [
        {"lo": lo, "hi": hi, "produced": metric_ids["energy_produced"], "counter": metric_ids["energy_total"]}
        for lo, hi in days
    ]
    parallel(database_url, ROLLUPS_SQL, jobs)
    why = "BENCH_ROLLUPS=sql" if ROLLUPS == "sql" else "telemetry.rollups.rollups_fold does not exist"
    return f"SQL in this script ({why}; the same rows as the project's folder)"


def fold_with_project(database_url: str, module, days: list[tuple[datetime, datetime]], device_ids: list[int]):
    """Every (device, hour) marked dirty by ``rollups_rebuild``, then ``rollups_fold()`` in JOBS
    threads (it is safe to run concurrently) until none is left. None on success, else why not."""
    import psycopg
    from django.db import connection

    module.rollups_rebuild(device_ids=device_ids, start=days[0][0], end=days[-1][1])
    errors: list[str] = []

    def work() -> None:
        try:
            module.rollups_fold()
        except Exception as exc:  # noqa: BLE001 -- reported; the SQL rollups take over
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(max(1, JOBS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        return errors[0]
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        left = conn.execute("SELECT count(*) FROM telemetry_dirtyhour").fetchone()[0]
    return f"{left} dirty hours left" if left else None


# --- measurements -------------------------------------------------------------------------------


def diagnose(path: str, token: str) -> str:
    """Why a URL answers 5xx: the same request in-process; the logged exception and the last
    SolarHub frames it passed through."""
    import logging
    import traceback

    from django.test import Client as DjangoClient

    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [Collect()]
    try:
        response = DjangoClient(HTTP_HOST="127.0.0.1").get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    finally:
        root.handlers = saved
    failures = [record.exc_info for record in records if record.exc_info and record.exc_info[1]]
    if not failures:
        return f"in-process the same request answers {response.status_code}, no exception logged"
    _, exc, tb = failures[0]
    frames = [f for f in traceback.extract_tb(tb) if f.filename.startswith(str(ROOT)) and "/bench/" not in f.filename]
    where = " <- ".join(f"{Path(f.filename).relative_to(ROOT)}:{f.lineno} {f.name}" for f in reversed(frames[-3:]))
    return f"{type(exc).__name__}: {str(exc)[:300]} (at {where})"


class Client:
    """Sequential requests on one http.client connection (sync gunicorn workers close it after each
    answer; http.client reconnects, so the TCP connect is part of every figure)."""

    def __init__(self, address: tuple[str, int], token: str):
        self.conn = http.client.HTTPConnection(*address, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(self, path: str) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        return response.status, body, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.conn.close()


def summary(label: str, values: list[float], note: str = "") -> str:
    return f"{label}: p50 {median(values):7.2f} ms  p95 {percentile(values, 95):7.2f} ms{note}"


def main() -> int:
    with scratch_django("query") as database_url:
        import psycopg

        reused = reuse_plant()
        if reused:
            plant_id, devices, metric_ids, token = reused
            store = reused_store(database_url)
            build_s = 0.0
        else:
            plant_id, devices, metric_ids, token = build_plant()
            started = time.perf_counter()
            store = build_store(database_url, devices, metric_ids)
            build_s = time.perf_counter() - started

        inverters = devices["inverter"]
        series_path = "/api/devices/{}/timeseries?metric=ac_power&timeRange=30d&resolution=hour"
        dashboard_path = f"/api/dashboard/overview?plantId={plant_id}"
        has_series = route_exists(f"/api/devices/{inverters[0]}/timeseries")
        has_dashboard = route_exists("/api/dashboard/overview")
        series_end = store["end"].replace(minute=0)
        series_start = series_end - timedelta(hours=SERIES_HOURS)

        samples: dict[str, list[float]] = {"baseline": [], "series": [], "dashboard": [], "live": []}
        problems: dict[str, str] = {}
        points: set[int] = set()
        baseline_rows: set[int] = set()
        with (
            psycopg.connect(libpq_url(database_url), autocommit=True) as conn,
            gunicorn(workers=2) as address,
        ):
            client = Client(address, token)
            try:
                for i in range(WARMUP + REQUESTS):
                    device_id = inverters[i % len(inverters)]
                    t0 = time.perf_counter()
                    rows = conn.execute(
                        SERIES_BASELINE_SQL, [device_id, metric_ids["ac_power"], series_start, series_end]
                    ).fetchall()
                    baseline_ms = (time.perf_counter() - t0) * 1000
                    baseline_rows.add(len(rows))
                    measured = {"baseline": baseline_ms}
                    if has_series and "series" not in problems:
                        status, body, ms = client.get(series_path.format(device_id))
                        if status != 200:
                            problems["series"] = f"answered HTTP {status}: {body[:300]!r}"
                            if status >= 500:
                                problems["series"] += "; " + diagnose(series_path.format(device_id), token)
                        else:
                            measured["series"] = ms
                            if i == WARMUP:
                                data = json.loads(body).get("data")
                                points.add(len(data) if isinstance(data, list) else -1)
                    if has_dashboard and "dashboard" not in problems:
                        status, body, ms = client.get(dashboard_path)
                        if status != 200:
                            problems["dashboard"] = f"answered HTTP {status}: {body[:300]!r}"
                            if status >= 500:
                                problems["dashboard"] += "; " + diagnose(dashboard_path, token)
                        else:
                            measured["dashboard"] = ms
                    status, body, ms = client.get("/health/live")
                    measured["live"] = ms
                    if i >= WARMUP:
                        for name, value in measured.items():
                            samples[name].append(value)
            finally:
                client.close()

        timings = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in store["timings"].items())
        rollups = ", ".join(f"{name} {count:,}" for name, count in sorted(store["rollups"].items()))
        print(
            f"store: {store['readings']:,} readings = 100 devices x 8 metrics x {store['days']} plant-local days "
            f"at 5-minute steps up to {store['end']:%Y-%m-%d %H:%M} UTC ({store['size']}); "
            f"rollups {rollups} ({store['rollup_size']})"
        )
        print(f"rollups built by: {store['rollup_source']}")
        print(f"build time: {build_s:.0f} s ({timings}; {JOBS} sessions)")
        print(
            f"{REQUESTS} requests per URL after {WARMUP} warm-up, sequential, one http.client connection; "
            "gunicorn 2 sync workers, PostgreSQL, locmem cache"
        )
        base = samples["baseline"]
        rows_note = "/".join(str(n) for n in sorted(baseline_rows))
        print(
            summary(
                f"baseline: raw SQL, {rows_note} hourly rollup rows (psycopg, same devices)",
                base,
                "  (baseline)",
            )
        )
        series = samples["series"]
        if not has_series:
            print(
                "30-day hourly series over HTTP: NOT RUN: /api/devices/{id}/timeseries does not resolve yet "
                "(telemetry/api/timeseries.py is being written)"
            )
        elif "series" in problems or not series:
            print(f"30-day hourly series over HTTP: NOT MEASURED: {problems.get('series', 'no samples')}")
        else:
            p50, ratio = median(series), median(series) / median(base)
            verdict = "meets" if p50 <= TARGET_P50_MS and ratio <= TARGET_RATIO else "MISSES"
            print(summary(f"GET {series_path.format('{id}')} ({'/'.join(map(str, sorted(points)))} points)", series))
            print(
                f"30-day hourly series: p50 {p50:.2f} ms = {ratio:.1f} x baseline p50 "
                f"(targets <= {TARGET_P50_MS:.0f} ms and <= {TARGET_RATIO:.0f} x: {verdict})"
            )
        dashboard = samples["dashboard"]
        if not has_dashboard:
            print(
                "dashboard overview: NOT RUN: /api/dashboard/overview does not resolve yet "
                "(telemetry/api/dashboard_urls.py has no routes)"
            )
        elif "dashboard" in problems or not dashboard:
            print(f"dashboard overview: NOT MEASURED: {problems.get('dashboard', 'no samples')}")
        else:
            p95 = percentile(dashboard, 95)
            verdict = "meets" if p95 <= TARGET_DASHBOARD_P95_MS else "MISSES"
            print(
                summary(
                    f"GET /api/dashboard/overview?plantId= (plant of {sum(map(len, devices.values()))} devices)",
                    dashboard,
                )
            )
            print(f"dashboard overview: p95 {p95:.2f} ms (target <= {TARGET_DASHBOARD_P95_MS:.0f} ms: {verdict})")
        print(summary("for reference: GET /health/live on the same server (HTTP + Django floor)", samples["live"]))
        measured = [("series", series_path.format(inverters[0])), ("dashboard", dashboard_path)]
        for name, path in measured:
            if samples[name]:
                print(f"where {path.split('?')[0]} spends its time (in-process, 20 runs): {breakdown(path, token)}")
        if samples["series"] and (PROFILE or series_misses(samples)):
            profile_request(series_path.format(inverters[0]), token)
        if samples["dashboard"] and (PROFILE or percentile(samples["dashboard"], 95) > TARGET_DASHBOARD_P95_MS):
            profile_request(dashboard_path, token)
    return 0


def series_misses(samples: dict[str, list[float]]) -> bool:
    p50 = median(samples["series"])
    return p50 > TARGET_P50_MS or p50 / median(samples["baseline"]) > TARGET_RATIO


def profile_request(path: str, token: str) -> None:
    """cProfile of one in-process request (after a warm-up one): the functions with the most own time."""
    import cProfile
    import io
    import pstats

    from django.test import Client as DjangoClient

    client = DjangoClient(HTTP_HOST="127.0.0.1")
    client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(10):
        client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats("tottime").print_stats(15)
    text = out.getvalue()
    print(f"\ncProfile of 10 in-process GET {path}, top 15 by own time:")
    print(text[text.find("   ncalls") :].rstrip())
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats("cumulative").print_stats(25)
    text = out.getvalue()
    print("top 25 by cumulative time:")
    print(text[text.find("   ncalls") :].rstrip())


def breakdown(path: str, token: str) -> str:
    """Median in-process time of ``path``, its number of SQL queries and the median time in them
    (a diagnosis, not a figure against a target)."""
    from django.db import connection
    from django.test import Client as DjangoClient

    client = DjangoClient(HTTP_HOST="127.0.0.1")
    queries: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql))

    totals, sql_times = [], []
    for _ in range(20):
        queries.clear()
        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
            totals.append((time.perf_counter() - started) * 1000)
        sql_times.append(sum(ms for ms, _ in queries))
    text = (
        f"{median(totals):.1f} ms, {len(queries)} SQL queries taking {median(sql_times):.1f} ms, "
        f"the rest (Python) {median(totals) - median(sql_times):.1f} ms"
    )
    if queries:
        ms, sql = max(queries)
        text += f"; slowest query {ms:.1f} ms: {' '.join(sql.split())[:200]}…"
    return text


if __name__ == "__main__":
    sys.exit(main())
