"""The collector's writes: save a device's collection config, poll devices (read concurrently,
store through the one ingest service, record the outcome, back off, raise communication loss),
and claim the devices whose poll is due.

Reads run on one asyncio loop per call (bounded by ``COLLECTOR_CONCURRENCY``); everything that
touches the database runs after them, synchronously, so no connection is held across network
waits and no async ORM is needed.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from solarhub.db import server_cursor
from telemetry.ingest import telemetry_ingest
from telemetry.models import Metric

from .choices import Driver as DriverName
from .drivers import CollectorError, Driver, HttpJson, ReadOutcome, SunSpecModbusTcp, Target, read_bounded
from .mapping import PointMap, point_map_from_catalog
from .models import CollectionConfig

SOURCE = "collector"


@dataclass
class PollResult:
    device_id: int
    at: datetime
    ok: bool
    duration_ms: float
    timestamp: datetime | None = None
    values: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    error: str = ""
    stored: dict[str, Any] | None = None  # the ingest result, when stored


_catalog_cache: tuple[float, PointMap] | None = None


def point_map(*, refresh: bool = False) -> PointMap:
    """The SunSpec → metric map from the catalog, cached per process for 60 s (like the ingest
    catalog: the admin may add metrics)."""
    global _catalog_cache
    now = time.monotonic()
    if refresh or _catalog_cache is None or now - _catalog_cache[0] > 60:
        rows = list(Metric.objects.exclude(kind="derived").values_list("key", "unit", "sunspec_point"))
        mapping = point_map_from_catalog(rows)
        mapping.units = {key: unit for key, unit, _ in rows}
        _catalog_cache = (now, mapping)
    return _catalog_cache[1]


def driver_for(name: str, mapping: PointMap) -> Driver:
    if name == DriverName.HTTP_JSON:
        return HttpJson(mapping, mapping.units)
    return SunSpecModbusTcp(mapping)


def target_of(config: CollectionConfig) -> Target:
    return Target(
        device_id=config.device_id,
        serial_number=config.device.serial_number,
        driver=config.driver,
        host=config.host,
        port=config.port,
        unit_id=config.unit_id,
        path=config.path,
        base_address=config.base_address,
        timeout=float(config.timeout_seconds),
        use_tls=config.use_tls,
        username=config.username,
        secret=config.secret,
        json_mapping=dict(config.json_mapping or {}),
        timestamp_path=config.timestamp_path,
        known_base=(config.last_info or {}).get("baseAddress") if not config.last_error_code else None,
        known_span=(config.last_info or {}).get("span") if not config.last_error_code else None,
    )


async def _read_one(target: Target, mapping: PointMap, gate: asyncio.Semaphore) -> PollResult:
    async with gate:
        at = datetime.now(UTC)
        started = time.perf_counter()
        try:
            outcome: ReadOutcome = await read_bounded(driver_for(target.driver, mapping), target)
        except CollectorError as exc:
            return PollResult(
                target.device_id, at, False, (time.perf_counter() - started) * 1000, error_code=exc.code,
                error=exc.message,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 — a driver bug must not take the batch down
            return PollResult(
                target.device_id, at, False, (time.perf_counter() - started) * 1000, error_code="DRIVER_ERROR",
                error=f"{type(exc).__name__}: {exc}"[:500],
            )  # fmt: skip
        return PollResult(
            target.device_id, at, True, (time.perf_counter() - started) * 1000, timestamp=outcome.timestamp,
            values=outcome.values, info=outcome.info,
        )  # fmt: skip


async def _read_all(targets: list[Target], mapping: PointMap, concurrency: int) -> list[PollResult]:
    gate = asyncio.Semaphore(concurrency)
    return list(await asyncio.gather(*(_read_one(t, mapping, gate) for t in targets)))


def targets_read(*, targets: list[Target], concurrency: int | None = None) -> list[PollResult]:
    """Read ``targets`` concurrently; nothing is stored. Each read ends within its timeout."""
    if not targets:
        return []
    limit = concurrency or settings.COLLECTOR_CONCURRENCY
    return _run_bounded(_read_all(targets, point_map(), limit), threads=min(64, limit + 4))


def _run_bounded(coro, *, threads: int):
    """Run ``coro`` on a fresh event loop and return as soon as it is done. Unlike
    ``asyncio.run`` this does not wait for the loop's executor threads: a name lookup
    (``getaddrinfo``) or a blocking HTTP read that outlived its read's timeout is abandoned to
    finish on its own, instead of holding the worker past the timeout."""
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="collector-io")
    loop.set_default_executor(executor)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            loop.close()


def slot_of(moment: datetime, interval_seconds: int) -> datetime:
    """The start of the poll slot ``moment`` falls in: readings are stamped with it, so a second
    poll in the same slot (a redelivered task, a manual run) stores nothing new."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % interval_seconds, tz=UTC)


def phase_of(device_id: int, interval_seconds: int) -> float:
    """A fixed offset of the device's polls inside its interval (Knuth's multiplicative hash of
    the id), so 500 devices spread over the interval instead of hitting the network at once."""
    return ((device_id * 2654435761) % 2**32) / 2**32 * interval_seconds * 0.8


def next_poll_after(*, device_id: int, interval_seconds: int, failures: int, now: datetime) -> datetime:
    """The next slot (plus the device's phase); after failures, exponentially later: 1, 2, 4, 8…
    intervals, capped at ``COLLECTOR_MAX_BACKOFF_SECONDS``."""
    slot = slot_of(now, interval_seconds) + timedelta(seconds=interval_seconds)
    due = slot + timedelta(seconds=phase_of(device_id, interval_seconds))
    if failures > 1:
        delay = min(
            interval_seconds * 2 ** (failures - 1), max(settings.COLLECTOR_MAX_BACKOFF_SECONDS, interval_seconds)
        )
        due = max(due, now + timedelta(seconds=delay))
    return due


def _store(pairs: list[tuple[CollectionConfig, PollResult]]) -> None:
    """Store the batch's readings in one ``telemetry_ingest`` call (one transaction, one COPY, one
    hand-over to alarm evaluation: the per-call cost is paid once per batch, not per device).
    Each device's ``stored`` says what its own values became: its rejected values by name, and
    the batch's counts (the ingest service counts per call)."""
    readings, plant_ids = [], set()
    for config, result in pairs:
        result.timestamp = result.timestamp or slot_of(result.at, config.interval_seconds)
        if result.values:
            readings.append({"deviceId": config.device_id, "timestamp": result.timestamp, "metrics": result.values})
            plant_ids.add(config.device.plant_id)
    if not readings:
        for _, result in pairs:
            result.stored = {"accepted": 0, "duplicates": 0, "rejected": 0, "errors": [], "batch_devices": 0}
        return
    outcome = telemetry_ingest(plant_ids=sorted(plant_ids), readings=readings)
    errors_by_device: dict[int, list[dict]] = {}
    for error in outcome.errors:
        device_id = readings[error["index"]]["deviceId"]
        errors_by_device.setdefault(device_id, []).append({"field": error["field"], "message": error["message"]})
    for config, result in pairs:
        own = errors_by_device.get(config.device_id, [])
        result.stored = {
            "accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": len(own),
            "errors": own[:50], "batch_devices": len(readings),
        }  # fmt: skip


def _comms_rules(device):
    from alarms.choices import RuleType
    from alarms.evaluation import rule_devices
    from alarms.models import AlarmRule

    rules = AlarmRule.objects.filter(
        plant_id=device.plant_id, enabled=True, rule_type=RuleType.COMMUNICATION_LOSS
    ).filter(Q(device__isnull=True) | Q(device=device))
    return [rule for rule in rules if rule_devices(rule, [device])]


def _alarm_raise(config: CollectionConfig, result: PollResult) -> None:
    """The device failed ``COLLECTOR_ALARM_AFTER`` polls in a row: its plant's communication-loss
    rules open (or update) their alarm for it, through the alarms app."""
    from alarms.services import alarm_raise

    device = config.device
    for rule in _comms_rules(device):
        alarm_raise(
            rule=rule, device=device, at=result.at, value=None,
            message=f"The collector cannot read {device.name}: {result.error} ({config.consecutive_failures} polls).",
            metadata={"collector": {"errorCode": result.error_code, "failures": config.consecutive_failures}},
        )  # fmt: skip


def _alarm_clear(config: CollectionConfig, at: datetime) -> None:
    from alarms.models import Alarm
    from alarms.services import alarm_return_to_normal

    for rule in _comms_rules(config.device):
        alarm = Alarm.objects.filter(dedupe_key=f"{rule.pk}:{config.device_id}", closed_at__isnull=True).first()
        if alarm is not None and alarm.active and "collector" in (alarm.metadata or {}):
            alarm_return_to_normal(alarm=alarm, at=at)


def _record(config: CollectionConfig, result: PollResult) -> int:
    """Apply ``result`` to ``config``'s state (not saved); returns the failure streak before."""
    previous_failures = config.consecutive_failures
    config.consecutive_failures = 0 if result.ok else previous_failures + 1
    config.last_poll_at = result.at
    config.last_duration_ms = round(result.duration_ms, 2)
    config.last_values = result.values
    config.last_info = {**result.info, "source": SOURCE}
    config.last_stored = result.stored or {}
    config.last_error_code = result.error_code
    config.last_error = result.error
    if result.ok:
        config.last_success_at = result.at
    config.next_poll_at = next_poll_after(
        device_id=config.device_id, interval_seconds=config.interval_seconds,
        failures=config.consecutive_failures, now=result.at,
    )  # fmt: skip
    config.updated_at = result.at
    return previous_failures


_STATE_COLUMNS = [
    ("consecutive_failures", "int"), ("last_poll_at", "timestamptz"), ("last_duration_ms", "float8"),
    ("last_values", "jsonb"), ("last_info", "jsonb"), ("last_stored", "jsonb"), ("last_error_code", "text"),
    ("last_error", "text"), ("last_success_at", "timestamptz"), ("next_poll_at", "timestamptz"),
    ("updated_at", "timestamptz"),
]  # fmt: skip
_JSON_FIELDS = {name for name, kind in _STATE_COLUMNS if kind == "jsonb"}


def _state_update_sql() -> str:
    # JSON travels as text (json.dumps) and is cast per element: psycopg has no binary jsonb array.
    arrays = ", ".join(
        ["%b::bigint[]"] + [f"%b::{'text' if kind == 'jsonb' else kind}[]" for _, kind in _STATE_COLUMNS]
    )
    names = ", ".join(["id"] + [name for name, _ in _STATE_COLUMNS])
    assignments = ", ".join(
        f"{name} = u.{name}::jsonb" if kind == "jsonb" else f"{name} = u.{name}" for name, kind in _STATE_COLUMNS
    )
    table = CollectionConfig._meta.db_table
    # The rows are locked in id order first (``locked``), whatever join order the planner picks
    # for the UPDATE: two polls of overlapping configs (a manual ``collect`` during a scheduled
    # batch) then wait for each other instead of deadlocking.
    return (
        f"WITH u({names}) AS (SELECT * FROM unnest({arrays})), "  # noqa: S608 -- fixed names
        f"locked AS (SELECT id FROM {table} WHERE id IN (SELECT id FROM u) ORDER BY id FOR UPDATE) "
        f"UPDATE {table} AS c SET {assignments} FROM u WHERE c.id = u.id AND c.id IN (SELECT id FROM locked)"
    )


_STATE_UPDATE = _state_update_sql()


def _save_states(configs: list[CollectionConfig]) -> None:
    """The batch's state rows in one ``UPDATE … FROM unnest`` of binary arrays, bound on the
    server: a round trip per device costs more than its read on a loaded machine, ``bulk_update``'s
    CASE expressions take longer to build than to run, and 50 client-bound UPDATEs (one
    ``executemany``) were each parsed and planned — 8 ms a batch, against 1-2 ms for one statement."""
    if not configs:
        return
    if connection.vendor != "postgresql":  # SQLite (make run): one executemany
        table = CollectionConfig._meta.db_table
        assignments = ", ".join(f"{name} = %s" for name, _ in _STATE_COLUMNS)
        rows = [
            [
                json.dumps(getattr(config, name)) if name in _JSON_FIELDS else getattr(config, name)
                for name, _ in _STATE_COLUMNS
            ]
            + [config.pk]
            for config in configs
        ]
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)  # noqa: S608 — fixed names
        return
    columns = [[config.pk for config in configs]] + [
        [json.dumps(getattr(config, name)) for config in configs]
        if name in _JSON_FIELDS
        else [getattr(config, name) for config in configs]
        for name, _ in _STATE_COLUMNS
    ]
    with server_cursor() as cursor:
        cursor.execute(_STATE_UPDATE, columns)


def collection_poll(*, config_ids, concurrency: int | None = None) -> list[PollResult]:
    """Poll the configs ``config_ids`` now (read concurrently), store what was read through the
    ingest service (validation, idempotency, rollups, alarm evaluation: the same as a push),
    record each outcome. A config deleted or disabled meanwhile is skipped."""
    configs = list(
        CollectionConfig.objects.select_related("device").filter(id__in=list(config_ids), enabled=True).order_by("id")
    )
    results = targets_read(targets=[target_of(c) for c in configs], concurrency=concurrency)
    pairs = list(zip(configs, results, strict=True))
    _store([(config, result) for config, result in pairs if result.ok])
    before = [_record(config, result) for config, result in pairs]
    after = settings.COLLECTOR_ALARM_AFTER
    raising = [(config, result) for config, result in pairs if not result.ok and config.consecutive_failures >= after]
    clearing = [
        (config, result)
        for (config, result), previous in zip(pairs, before, strict=True)
        if result.ok and previous >= after
    ]
    if not raising and not clearing and connection.vendor == "postgresql":
        # One UPDATE is atomic on its own: no BEGIN/COMMIT round trips around it (on a loaded
        # machine each round trip waits for the database process to be scheduled).
        _save_states(configs)
        return results
    with transaction.atomic():  # the states and the alarms they raise or clear, together
        _save_states(configs)
        for config, result in raising:
            _alarm_raise(config, result)
        for config, result in clearing:
            _alarm_clear(config, result.at)
    return results


def collection_dispatch_due(*, now: datetime | None = None, limit: int = 5000) -> list[int]:
    """Claim the enabled configs whose poll is due: their ``next_poll_at`` moves one interval on
    in the same statement, so a beat run that overlaps a slow one (or a second beat) does not
    claim them twice (``FOR UPDATE SKIP LOCKED``). The poll sets the exact next time."""
    now = now or datetime.now(UTC)
    with transaction.atomic():
        due = list(
            CollectionConfig.objects.select_for_update(skip_locked=True)
            .filter(enabled=True)
            .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
            .order_by("next_poll_at")
            .values_list("id", "interval_seconds")[:limit]
        )
        by_interval: dict[int, list[int]] = {}
        for config_id, interval in due:
            by_interval.setdefault(interval, []).append(config_id)
        for interval, ids in by_interval.items():  # one UPDATE per distinct interval (a handful)
            CollectionConfig.objects.filter(id__in=ids).update(next_poll_at=now + timedelta(seconds=interval))
    return [config_id for config_id, _ in due]


CONFIG_FIELDS = (
    "driver", "host", "port", "unit_id", "base_address", "path", "use_tls", "json_mapping", "timestamp_path",
    "username", "secret", "interval_seconds", "timeout_seconds", "enabled",
)  # fmt: skip


def collection_config_save(*, device, data: dict[str, Any]) -> CollectionConfig:
    """Create or update ``device``'s collection config from validated ``data``; a secret left
    out keeps the stored one. A (re)enabled config is due at its next slot."""
    with transaction.atomic():
        config = CollectionConfig.objects.select_for_update().filter(device=device).first()
        if config is None:
            config = CollectionConfig(device=device)
        for name in CONFIG_FIELDS:
            if name in data:
                setattr(config, name, data[name])
        config.full_clean(exclude=["device"])
        config.next_poll_at = datetime.now(UTC) if config.enabled else None
        config.save()
    return config
