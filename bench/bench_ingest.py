"""Telemetry ingest throughput: the ingest service (COPY path) and the REST endpoint, against raw
binary COPY of the same rows into an identically indexed table, in the same run.

* Baseline: psycopg binary ``COPY`` of N rows ``(device_id int8, metric_id int2, ts timestamptz,
  value float8)`` into a plain table with the readings' primary key ``(device_id, metric_id, ts)``
  and a BRIN index on ``ts``; rows/s.
* Service: the same rows through ``telemetry.ingest.store_rows`` (validated tuples) and through
  ``telemetry.ingest.telemetry_ingest`` (reading dicts as a client sends them: ISO timestamps,
  validation, device resolution); rows/s and x baseline (target >= 0.6).
* REST: ``POST /api/telemetry/ingest`` served by gunicorn (2 sync workers, the developer settings
  against the scratch database, throttles raised), 2 client threads posting 5,000- and
  1,000-reading batches with ``X-Api-Key``, fresh timestamps per batch; rows (= values) per second
  and x the same baseline (target >= 0.25), in two setups:

  - default (no broker, as ``make run``): eager Celery with ``CELERY_EAGER_BACKGROUND`` at its
    default (on): each batch's alarm evaluation goes to the worker process's background thread,
    coalesced. After each round the script waits until every (rule, device) state of the plant
    is evaluated through the last reading posted, and prints how long that took: the figure is
    the clients' wall clock, the evaluation provably ran on all of it;
  - with a broker: ``REDIS_URL`` (``BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/14``)
    set for gunicorn, a queue of its own that no worker consumes (the evaluations are only
    enqueued; the script counts them and deletes the queue). Skipped when Redis does not answer.

  Each setup and batch size posts to a plant of its own (50 inverters, the default alarm rules
  every plant gets), with readings from the last days, where alarm evaluation really reads them.
  ``BENCH_INLINE=1`` adds plain eager Celery (``CELERY_EAGER_BACKGROUND=false``: evaluation inside
  the request, the setup of issue 13) at 1,000-reading batches, for comparison.

Every measurement starts from empty tables after a ``CHECKPOINT``; warm-up once, then 3 rounds
(baseline, store_rows, telemetry_ingest, REST interleaved), medians printed. If a figure is below
its target the script profiles it (statement timings, ``EXPLAIN ANALYZE`` of the INSERT,
cProfile) and prints the dominant costs. ``BENCH_PROFILE=1`` profiles regardless. Not a test:
asserts nothing.

Data: 50 devices x 10 metrics at 5-minute steps (a plausible inverter/weather mix of values).
Environment: ``DATABASE_URL`` (a postgres:// URL on loopback; only its server and credentials are
used, a scratch database is created and dropped), ``BENCH_ROWS`` (default 500,000), ``BENCH_REDIS_URL``,
``BENCH_INLINE``. The in-process service figures run with the default setting too: the alarm
evaluation ``telemetry_ingest`` hands over after its commit runs on this process's background
thread and is drained, untimed, before the next measurement (as plain eager Celery, it was timed).
"""

from __future__ import annotations

import contextlib
import cProfile
import http.client
import io
import json
import math
import os
import pstats
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import gunicorn, json_or_text, libpq_url, median, scratch_django

ROWS = int(os.environ.get("BENCH_ROWS", "500000"))
PROFILE = os.environ.get("BENCH_PROFILE", "") not in {"", "0", "false", "no"}
INLINE = os.environ.get("BENCH_INLINE", "") not in {"", "0", "false", "no"}
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DEVICES = 50
METRICS = (
    "ac_power",
    "dc_power",
    "energy_total",
    "frequency",
    "power_factor",
    "internal_temp",
    "ac_voltage_l1",
    "pv1_voltage",
    "pv1_current",
    "irradiance_poa",
)
STEP = timedelta(minutes=5)
REPEATS = 3
BATCH_SIZES = (5_000, 1_000)  # readings per REST request: the quality target's size, and issue 13's
CLIENT_THREADS = 2
COPY_START = datetime(2024, 3, 1, tzinfo=UTC)  # the service/baseline rows (reused after each TRUNCATE)
REST_SPAN = timedelta(days=6)  # REST readings end now and stay within alarm evaluation's look-back (8 days)
EVALUATION_WAIT = 600  # seconds the background evaluation may take to catch up after a round
SERVICE_TARGET, REST_TARGET = 0.6, 0.25
BASELINE_TABLE = "bench_copy_baseline"
COPY_TYPES = ["int8", "int2", "timestamptz", "float8"]
COLUMNS = "device_id, metric_id, ts, value"


# --- data ---------------------------------------------------------------------------------------


def _values(step: int, ts: datetime, device: int, rng: random.Random) -> dict[str, float]:
    """One device's readings at ``ts``: a clear-sky day shape with noise, a monotonic counter."""
    hour = ts.hour + ts.minute / 60
    sun = max(0.0, math.sin(math.pi * (hour - 6) / 12))
    ac = round(100 * sun * (0.9 + 0.1 * rng.random()), 3)
    return {
        "ac_power": ac,
        "dc_power": round(ac * 1.03, 3),
        "energy_total": round(10_000 + 1_000 * device + 0.3 * step, 3),
        "frequency": round(50 + 0.05 * (rng.random() - 0.5), 4),
        "power_factor": round(0.98 + 0.02 * rng.random(), 4),
        "internal_temp": round(25 + 25 * sun + 2 * rng.random(), 2),
        "ac_voltage_l1": round(230 + 4 * (rng.random() - 0.5), 2),
        "pv1_voltage": round(600 + 100 * sun + 10 * rng.random(), 2),
        "pv1_current": round(15 * sun + 0.1 * rng.random(), 3),
        "irradiance_poa": round(1000 * sun * (0.9 + 0.1 * rng.random()), 1),
    }


def make_readings(
    start: datetime, first_step: int, steps: int, device_ids: list[int], seed: int, step_size: timedelta = STEP
) -> list[dict]:
    """Readings as a client sends them, in arrival order (time, then device)."""
    rng = random.Random(seed)
    readings = []
    for step in range(first_step, first_step + steps):
        ts = start + step * step_size
        stamp = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
        for index, device_id in enumerate(device_ids):
            readings.append({"deviceId": device_id, "timestamp": stamp, "metrics": _values(step, ts, index, rng)})
    return readings


def readings_to_rows(readings: list[dict], metric_ids: dict[str, int]) -> list[tuple[int, int, datetime, float]]:
    rows = []
    for reading in readings:
        ts = datetime.fromisoformat(reading["timestamp"])
        for key, value in reading["metrics"].items():
            rows.append((reading["deviceId"], metric_ids[key], ts, float(value)))
    return rows


def build_plant(owner, name: str, code: str) -> tuple[int, list[int], str]:
    """A plant with DEVICES inverters, the default alarm rules and an ingest key; returns
    (plant id, device ids, key)."""
    from alarms.models import AlarmRule
    from alarms.services import DEFAULT_RULES
    from plants.models import Device
    from solarhub.testing.personas import make_plant
    from telemetry.services import ingest_key_create

    plant = make_plant(name=name, owner=owner, plant_code=code)  # plant_created gives it the default rule set
    # By name: the storage app adds default rules of its own (for BESS/rack/PCS devices, none here).
    present = set(AlarmRule.objects.filter(plant=plant, is_default=True, enabled=True).values_list("name", flat=True))
    if not {spec["name"] for spec in DEFAULT_RULES} <= present:
        raise SystemExit(f"{name}: the plant did not get the default alarm rules")
    Device.objects.bulk_create(
        Device(plant=plant, type="inverter", name=f"Inverter {n + 1}", serial_number=f"INV-{n:04d}", capacity_kw=100.0)
        for n in range(DEVICES)
    )
    device_ids = list(Device.objects.filter(plant=plant).order_by("id").values_list("id", flat=True))
    _, key = ingest_key_create(by=owner, plant_id=plant.pk, name="bench logger")
    return plant.pk, device_ids, key


def build_fixture() -> tuple[object, int, list[int], dict[str, int]]:
    """The owner and the service measurements' plant; returns (owner, plant id, device ids, metric ids)."""
    from accounts.services import user_create
    from telemetry.models import Metric

    owner = user_create(email="bench-owner@example.com", password=None, username="bench-owner")
    plant_id, device_ids, _ = build_plant(owner, "Bench ingest plant", "BENCH-INGEST")
    metric_ids = dict(Metric.objects.filter(key__in=METRICS).values_list("key", "id"))
    if len(metric_ids) != len(METRICS):
        raise SystemExit(f"metric catalog lacks {sorted(set(METRICS) - set(metric_ids))}")
    return owner, plant_id, device_ids, metric_ids


# --- measurements -------------------------------------------------------------------------------


class Bench:
    def __init__(self, database_url: str):
        import psycopg

        self.copy_conn = psycopg.connect(libpq_url(database_url))  # the baseline's own session
        self.maint = psycopg.connect(libpq_url(database_url), autocommit=True)
        self.maint.execute(
            f"CREATE TABLE {BASELINE_TABLE} (device_id bigint NOT NULL, metric_id smallint NOT NULL, "
            "ts timestamptz NOT NULL, value double precision NOT NULL, PRIMARY KEY (device_id, metric_id, ts))"
        )
        self.maint.execute(f"CREATE INDEX {BASELINE_TABLE}_ts_brin ON {BASELINE_TABLE} USING brin (ts)")

    def close(self) -> None:
        self.copy_conn.close()
        self.maint.close()

    def reset(self) -> None:
        """Empty tables, dirty buffers flushed: each measurement starts from the same state."""
        self.maint.execute(f"TRUNCATE {BASELINE_TABLE}, telemetry_reading, telemetry_latestvalue, telemetry_dirtyhour")
        self.maint.execute("CHECKPOINT")

    def count(self, table: str) -> int:
        return self.maint.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def baseline(self, rows: list[tuple]) -> float:
        self.reset()
        started = time.perf_counter()
        with (
            self.copy_conn.cursor() as cursor,
            cursor.copy(f"COPY {BASELINE_TABLE} (device_id, metric_id, ts, value) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        self.copy_conn.commit()
        elapsed = time.perf_counter() - started
        self._expect(BASELINE_TABLE, len(rows), "raw COPY")
        return len(rows) / elapsed

    def store_rows(self, rows: list[tuple]) -> float:
        from telemetry.ingest import store_rows

        self.reset()
        batch = list(rows)  # store_rows sorts in place; the caller's list stays in arrival order
        started = time.perf_counter()
        inserted = store_rows(batch)
        elapsed = time.perf_counter() - started
        if inserted != len(rows):
            raise SystemExit(f"store_rows inserted {inserted} of {len(rows)} rows")
        self._expect("telemetry_reading", len(rows), "store_rows")
        return len(rows) / elapsed

    def telemetry_ingest(self, plant_id: int, readings: list[dict], expected: int) -> float:
        """The service call as the default setup runs it: its alarm evaluation is handed to this
        process's background thread after the commit and drained, untimed, before the next
        measurement."""
        from solarhub import background
        from telemetry.ingest import telemetry_ingest

        self.reset()
        started = time.perf_counter()
        result = telemetry_ingest(plant_ids=[plant_id], readings=readings)
        elapsed = time.perf_counter() - started
        if not background.drain(EVALUATION_WAIT):
            raise SystemExit("telemetry_ingest: the background evaluation did not finish")
        if result.accepted != expected or result.rejected:
            raise SystemExit(f"telemetry_ingest: {result.as_dict() | {'errors': result.errors[:3]}}")
        self._expect("telemetry_reading", expected, "telemetry_ingest")
        return expected / elapsed

    def rest(self, address: tuple[str, int], key: str, bodies: list[tuple[bytes, int]]) -> tuple[float, float]:
        """2 client threads share the batches; (rows (values) per wall-clock second, seconds)."""
        self.reset()
        expected = sum(count for _, count in bodies)
        pending = list(reversed(bodies))
        lock = threading.Lock()
        go = threading.Event()
        failures: list[str] = []
        accepted = [0]

        def client() -> None:
            conn = http.client.HTTPConnection(*address, timeout=600)
            headers = {"Content-Type": "application/json", "X-Api-Key": key}
            go.wait()
            try:
                while True:
                    with lock:
                        if not pending or failures:
                            return
                        body, count = pending.pop()
                    conn.request("POST", "/api/telemetry/ingest", body=body, headers=headers)
                    response = conn.getresponse()
                    answer = json_or_text(response.read())
                    ok = response.status == 200 and isinstance(answer, dict) and answer.get("accepted") == count
                    with lock:
                        if ok:
                            accepted[0] += count
                        else:
                            failures.append(f"HTTP {response.status}: {str(answer)[:400]}")
            except Exception as exc:  # noqa: BLE001 -- reported below, the run stops
                with lock:
                    failures.append(repr(exc))
            finally:
                conn.close()

        threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        go.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if failures or accepted[0] != expected:
            raise SystemExit(f"REST ingest: accepted {accepted[0]} of {expected}; {failures[:2]}")
        self._expect("telemetry_reading", expected, "REST")
        return expected / elapsed, elapsed

    def _expect(self, table: str, rows: int, label: str) -> None:
        found = self.count(table)
        if found != rows:
            raise SystemExit(f"{label}: {table} holds {found} rows, expected {rows}")


class RestBatches:
    """Bodies of ``per_batch`` readings, each in a time window of its own (rows are always new),
    ``total`` of them ending now: the readings step is chosen so that they fit in REST_SPAN."""

    def __init__(self, device_ids: list[int], per_batch: int, total: int, seed: int):
        self.device_ids = device_ids
        self.steps = per_batch // len(device_ids)
        self.per_batch = self.steps * len(device_ids)
        seconds = min(int(STEP.total_seconds()), int(REST_SPAN.total_seconds()) // (total * self.steps))
        if seconds < 1:
            raise SystemExit(f"BENCH_ROWS too large: {total} batches of {per_batch:,} readings do not fit {REST_SPAN}")
        self.step = timedelta(seconds=seconds)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.start = now - total * self.steps * self.step
        self.next = 0
        self.seed = seed

    def take(self, batches: int) -> list[tuple[bytes, int]]:
        bodies = []
        for _ in range(batches):
            readings = make_readings(
                self.start, self.next * self.steps, self.steps, self.device_ids, self.seed + self.next, self.step
            )
            self.next += 1
            body = json.dumps({"readings": readings}).encode()
            bodies.append((body, sum(len(r["metrics"]) for r in readings)))
        return bodies

    @property
    def last_ts(self) -> datetime:
        """Timestamp of the newest reading taken so far."""
        return self.start + (self.next * self.steps - 1) * self.step

    def months(self) -> set[datetime]:
        from telemetry.partitions import month_start

        months, moment = set(), self.start
        while moment <= datetime.now(UTC) + timedelta(days=1):
            months.add(month_start(moment))
            moment += timedelta(days=1)
        return months


@dataclass
class RestSetup:
    """How gunicorn is configured for one series of REST measurements."""

    name: str
    label: str
    env: dict[str, str | None]
    evaluates: bool  # alarm evaluation runs in this setup: wait until it covered each round, check it
    batch_sizes: tuple[int, ...] = BATCH_SIZES


@dataclass
class RestSeries:
    """One setup at one batch size: its own plant, batches and figures."""

    setup: RestSetup
    per_batch: int
    plant_id: int
    key: str
    batches: RestBatches
    per_round: int
    figures: list[float] = field(default_factory=list)
    with_evaluation: list[float] = field(default_factory=list)
    catch_up: list[float] = field(default_factory=list)


def rule_states(plant_id: int) -> tuple[int, int, datetime | None]:
    """(state rows, distinct rules with state rows, oldest evaluated_until) of the plant's alarm
    rules: evaluation creates one row per (rule, device) it looked at and advances it."""
    from django.db.models import Count, Min

    from alarms.models import RuleDeviceState

    found = RuleDeviceState.objects.filter(rule__plant_id=plant_id).aggregate(
        rows=Count("id"), rules=Count("rule", distinct=True), oldest=Min("evaluated_until")
    )
    return found["rows"], found["rules"], found["oldest"]


def wait_for_evaluation(plant_id: int, until: datetime) -> float:
    """Seconds until every inverter's state row of the over-temperature rule (a default rule that
    watches ``internal_temp``, which the batches carry) is evaluated through ``until``."""
    from alarms.models import RuleDeviceState

    started = time.perf_counter()
    states = RuleDeviceState.objects.filter(
        rule__plant_id=plant_id, rule__rule_type="threshold", rule__is_default=True, evaluated_until__gte=until
    )
    while states.count() < DEVICES:
        if time.perf_counter() - started > EVALUATION_WAIT:
            raise SystemExit(f"plant {plant_id}: alarm evaluation did not reach {until} within {EVALUATION_WAIT} s")
        time.sleep(0.05)
    return time.perf_counter() - started


class BrokerQueue:
    """The broker setup's Redis: a queue and a cache prefix of this run's own, counted and removed."""

    def __init__(self, url: str):
        import redis

        self.url = url
        self.queue = f"bench-ingest-{os.getpid()}"
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2)
        try:
            self.client.ping()
            self.available = True
        except Exception:  # noqa: BLE001 -- no Redis: the broker setup is skipped and says so
            self.available = False

    def messages(self) -> int:
        return self.client.llen(self.queue)

    def purge(self) -> None:
        for pattern in (f"*{self.queue}*", f"{self.queue}:*"):
            keys = list(self.client.scan_iter(match=pattern, count=1000))
            if keys:
                self.client.delete(*keys)


# --- profiling ----------------------------------------------------------------------------------


def _top(profile: cProfile.Profile, sort: str, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    text = out.getvalue()
    start = text.find("   ncalls")
    return text[start:].rstrip() if start >= 0 else text.rstrip()


def profile_service(bench: Bench, plant_id: int, readings: list[dict], baseline: float) -> None:
    from django.db import connection, transaction

    from telemetry.ingest import DeviceResolver, IngestResult, _dedupe, store_rows, validate_readings
    from telemetry.partitions import month_start

    print("\n--- profile: where the service's time goes ---")
    # 1. telemetry_ingest = validation + store_rows, timed directly (no profiler overhead).
    bench.reset()
    started = time.perf_counter()
    result = IngestResult()
    resolver = DeviceResolver([plant_id], readings)
    validated = _dedupe(validate_readings(readings, resolver=resolver, result=result))
    validate_s = time.perf_counter() - started
    print(f"validate + resolve + dedupe ({len(readings):,} readings): {validate_s:6.2f} s")

    # 2. store_rows, every SQL statement timed; the COPY into the staging table is the remainder.
    statements: list[tuple[str, float, str]] = []

    def timing(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((" ".join(sql.split())[:70], time.perf_counter() - t0, sql))

    sort_started = time.perf_counter()
    sorted(validated, key=lambda row: (row[0], row[1], row[2]))
    sort_s = time.perf_counter() - sort_started
    months_started = time.perf_counter()
    {month_start(row[2]) for row in validated}
    months_s = time.perf_counter() - months_started
    started = time.perf_counter()
    with connection.execute_wrapper(timing):
        store_rows(validated)
    store_s = time.perf_counter() - started
    print(f"store_rows ({len(validated):,} rows): {store_s:6.2f} s, of which")
    print(f"  {sort_s:6.2f} s  Python sort of the rows by key (measured separately)")
    print(f"  {months_s:6.2f} s  month_start() of every row for partitions_ensure (measured separately)")
    for label, seconds, _ in statements:
        print(f"  {seconds:6.2f} s  SQL: {label}…")
    rest = store_s - sort_s - months_s - sum(seconds for _, seconds, _ in statements)
    print(f"  {rest:6.2f} s  the rest: binary COPY of the rows (psycopg write_row loop + server)")
    insert_sql = next((sql for _, _, sql in statements if "INSERT INTO telemetry_reading" in sql), None)
    stage_sql = next((sql for _, _, sql in statements if "CREATE TEMP TABLE" in sql), None)

    # 3. The same INSERT under EXPLAIN ANALYZE, and cheaper variants of it, on the same staged rows.
    if insert_sql and stage_sql:
        stage = stage_sql.split("EXISTS", 1)[1].split("(", 1)[0].strip()
        columns = f"SELECT device_id, metric_id, ts, value FROM {stage}"
        variants = [
            ("INSERT ... SELECT (no ORDER BY, no ON CONFLICT, no CTEs)", f"INSERT INTO telemetry_reading {columns}"),
            (
                "INSERT ... SELECT ORDER BY key ON CONFLICT DO NOTHING (no RETURNING, no CTEs)",
                f"INSERT INTO telemetry_reading {columns} ORDER BY device_id, metric_id, ts ON CONFLICT DO NOTHING",
            ),
            ("the service's statement (CTEs: latest values + dirty hours)", insert_sql),
        ]
        print("the INSERT from the staging table, variants on the same staged rows (fresh tables each):")
        plan: list[str] = []
        for label, sql in variants:
            bench.reset()
            sorted_rows = sorted(validated, key=lambda row: (row[0], row[1], row[2]))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(stage_sql)
                raw = cursor.cursor
                with raw.copy(f"COPY {stage} (device_id, metric_id, ts, value) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(COPY_TYPES)
                    for row in sorted_rows:
                        copy.write_row(row)
                t0 = time.perf_counter()
                if sql is insert_sql:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = [line for (line,) in cursor.fetchall()]
                else:
                    cursor.execute(sql)
                print(f"  {time.perf_counter() - t0:6.2f} s  {label}")
        # What if new rows went straight into the partitioned table (no staging, no ON CONFLICT)?
        bench.reset()
        sorted_rows = sorted(validated, key=lambda row: (row[0], row[1], row[2]))
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY telemetry_reading ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(COPY_TYPES)
                for row in sorted_rows:
                    copy.write_row(row)
        rate = len(sorted_rows) / (time.perf_counter() - t0)
        print(
            f"what-if (one run): binary COPY of the key-sorted rows straight into partitioned telemetry_reading: "
            f"{rate:,.0f} rows/s = {rate / baseline:.2f} x baseline"
        )
        print("EXPLAIN (ANALYZE, BUFFERS) of the service's statement:")
        for line in plan:
            print(f"    {line}")

    # 4. cProfile of the whole service call.
    bench.reset()
    profile = cProfile.Profile()
    from telemetry.ingest import telemetry_ingest

    profile.enable()
    telemetry_ingest(plant_ids=[plant_id], readings=readings)
    profile.disable()
    from solarhub import background

    background.drain()  # its alarm evaluation, handed to the background thread
    print("cProfile of telemetry_ingest, top 15 by own time:")
    print(_top(profile, "tottime", 15))


def profile_rest(bench: Bench, key: str, body: bytes, readings: int) -> None:
    """One batch through the whole Django/DRF stack in-process (the same code gunicorn runs; the
    evaluation it hands over goes to this process's background thread, drained outside the
    profile)."""
    from django.test import Client, override_settings

    from solarhub import background

    print(f"\n--- profile: one {readings:,}-reading REST batch in-process (django.test.Client, cProfile) ---")
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"content_type": "application/json", "HTTP_X_API_KEY": key}
    with override_settings(CELERY_EAGER_BACKGROUND=True):
        client.post("/api/telemetry/ingest", data=body, **headers)  # warm-up: URL map, catalog, staging table
        background.drain()
        bench.reset()
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        response = client.post("/api/telemetry/ingest", data=body, **headers)
        profile.disable()
        background.drain()
    print(f"HTTP {response.status_code} in {time.perf_counter() - started:.2f} s under the profiler")
    print("top 25 by cumulative time:")
    print(_top(profile, "cumulative", 25))
    print("top 12 by own time:")
    print(_top(profile, "tottime", 12))


# --- main ---------------------------------------------------------------------------------------


def rest_setups(broker: BrokerQueue) -> list[RestSetup]:
    no_broker = {"REDIS_URL": None, "CELERY_BROKER_URL": None}
    setups = [
        RestSetup(
            "default",
            "default setup (no broker: eager, evaluation on the worker's background thread, as make run)",
            {**no_broker, "CELERY_EAGER_BACKGROUND": None},
            evaluates=True,
        )
    ]
    if broker.available:
        setups.append(
            RestSetup(
                "broker",
                f"with a broker (REDIS_URL={broker.url}, queue {broker.queue}, no worker consuming it)",
                {
                    "REDIS_URL": broker.url,
                    "CELERY_DEFAULT_QUEUE": broker.queue,
                    "CACHE_KEY_PREFIX": broker.queue,
                    "CELERY_EAGER_BACKGROUND": None,
                },
                evaluates=False,
            )
        )
    if INLINE:
        setups.append(
            RestSetup(
                "inline",
                "plain eager (CELERY_EAGER_BACKGROUND=false: evaluation inside the request, issue 13's setup)",
                {**no_broker, "CELERY_EAGER_BACKGROUND": "false"},
                evaluates=True,
                batch_sizes=(1_000,),
            )
        )
    return setups


def main() -> int:
    steps = max(1, round(ROWS / (DEVICES * len(METRICS))))
    os.environ.pop("CELERY_EAGER_BACKGROUND", None)  # the default, here and in gunicorn unless a setup says
    broker = BrokerQueue(REDIS_URL)
    setups = rest_setups(broker)
    with scratch_django("ingest") as database_url:
        from telemetry.ingest import metric_catalog
        from telemetry.partitions import month_start, partitions_ensure

        owner, plant_id, device_ids, metric_ids = build_fixture()
        readings = make_readings(COPY_START, 0, steps, device_ids, seed=1)
        rows = readings_to_rows(readings, metric_ids)
        n = len(rows)
        series: list[RestSeries] = []
        for setup in setups:
            for per_batch in setup.batch_sizes:
                per_round = max(CLIENT_THREADS, round(n / (per_batch * len(METRICS))))
                per_round += -per_round % CLIENT_THREADS
                rest_plant, rest_devices, rest_key = build_plant(
                    owner, f"Bench REST {setup.name} {per_batch}", f"BENCH-{setup.name.upper()}-{per_batch}"
                )
                batches = RestBatches(rest_devices, per_batch, CLIENT_THREADS + REPEATS * per_round, seed=per_batch)
                series.append(RestSeries(setup, per_batch, rest_plant, rest_key, batches, per_round))
        months = {month_start(row[2]) for row in rows}
        for item in series:
            months |= item.batches.months()
        partitions_ensure(months)
        metric_catalog(refresh=True)

        bench = Bench(database_url)
        figures: dict[str, list[float]] = {"baseline": [], "store_rows": [], "telemetry_ingest": []}
        try:
            with contextlib.ExitStack() as servers:
                address = {s.name: servers.enter_context(gunicorn(workers=2, env=s.env)) for s in setups}

                def rest_round(item: RestSeries, *, warm: bool = False) -> None:
                    bodies = item.batches.take(CLIENT_THREADS if warm else item.per_round)
                    rate, elapsed = bench.rest(address[item.setup.name], item.key, bodies)
                    # The evaluation must have run on everything posted before the next measurement.
                    waited = wait_for_evaluation(item.plant_id, item.batches.last_ts) if item.setup.evaluates else 0.0
                    if not warm:
                        item.figures.append(rate)
                        item.catch_up.append(waited)
                        item.with_evaluation.append(sum(count for _, count in bodies) / (elapsed + waited))

                bench.baseline(rows)
                bench.store_rows(rows)
                bench.telemetry_ingest(plant_id, readings, n)
                for item in series:
                    rest_round(item, warm=True)
                for _ in range(REPEATS):
                    figures["baseline"].append(bench.baseline(rows))
                    figures["store_rows"].append(bench.store_rows(rows))
                    figures["telemetry_ingest"].append(bench.telemetry_ingest(plant_id, readings, n))
                    for item in series:
                        rest_round(item)
            base = median(figures["baseline"])
            print(
                f"PostgreSQL, {n:,} rows = {DEVICES} devices x {len(METRICS)} metrics x {steps} five-minute steps; "
                f"median of {REPEATS} runs after 1 warm-up, each run from empty tables after a CHECKPOINT"
            )
            store_label = "store_rows (COPY into the table; ON CONFLICT path on a conflict)"
            lines = [
                ("raw psycopg binary COPY, plain table, same PK + BRIN", figures["baseline"], None),
                (store_label, figures["store_rows"], SERVICE_TARGET),
                ("telemetry_ingest (dicts: validate + store_rows)", figures["telemetry_ingest"], SERVICE_TARGET),
            ]
            for item in series:
                values = item.per_round * item.batches.per_batch * len(METRICS)
                label = (
                    f"REST POST /api/telemetry/ingest, {item.setup.label}, gunicorn 2 workers, {CLIENT_THREADS} "
                    f"client threads, {item.per_round} x {item.per_batch:,}-reading batches ({values:,} values)"
                )
                lines.append((label, item.figures, REST_TARGET))
            for label, runs_of, target in lines:
                value = median(runs_of)
                runs = ", ".join(f"{v:,.0f}" for v in runs_of)
                if target is None:
                    print(f"{label}: {value:9,.0f} rows/s  (baseline; runs {runs})")
                else:
                    verdict = "meets" if value / base >= target else "BELOW"
                    print(
                        f"{label}: {value:9,.0f} rows/s = {value / base:.2f} x baseline "
                        f"(target >= {target} x: {verdict}; runs {runs})"
                    )
            print("alarm evaluation behind the REST figures (default rules of each plant):")
            for item in series:
                states, rules, oldest = rule_states(item.plant_id)
                where = f"{item.setup.name}, {item.per_batch:,}-reading batches"
                if item.setup.evaluates:
                    with_evaluation = median(item.with_evaluation)
                    print(
                        f"  {where}: {states} (rule, device) state rows over {rules} rule(s); all {DEVICES} "
                        f"over-temperature states evaluated through the newest reading posted "
                        f"({item.batches.last_ts:%Y-%m-%d %H:%M:%S}Z, oldest state {oldest:%Y-%m-%d %H:%M:%S}Z), "
                        f"{median(item.catch_up):.2f} s after the last response (median; runs "
                        f"{', '.join(f'{v:.2f}' for v in item.catch_up)}); counting that wait: "
                        f"{with_evaluation:,.0f} rows/s = {with_evaluation / base:.2f} x baseline"
                    )
                else:
                    print(f"  {where}: not run in this setup (no worker consumes the queue); {states} state rows")
            if any(item.setup.name == "broker" for item in series):
                posted = sum(item.batches.next for item in series if item.setup.name == "broker")
                print(
                    f"  broker: {broker.messages()} task messages left in {broker.queue} for {posted} batches posted "
                    "(one alarms.evaluate_devices each); deleted"
                )
            elif not broker.available:
                print(f"  broker setup skipped: no Redis answers at {broker.url} (BENCH_REDIS_URL)")
            if PROFILE or median(figures["telemetry_ingest"]) / base < SERVICE_TARGET:
                profile_service(bench, plant_id, readings, base)
            # The plain eager comparison (BENCH_INLINE) is expected below target: not a reason to profile.
            worst = min((i for i in series if i.setup.name != "inline"), key=lambda item: median(item.figures))
            if PROFILE or median(worst.figures) / base < REST_TARGET:
                profile_rest(bench, worst.key, worst.batches.take(1)[0][0], worst.batches.per_batch)
        finally:
            bench.close()
            if broker.available:
                broker.purge()
    return 0


if __name__ == "__main__":
    sys.exit(main())
