"""Rollup folding: every stored aggregate equals a direct computation from the raw rows (5min,
hour, plant-local day incl. DST and +05:30 days), the energy rules (counter reset, counter gap,
power integral), idempotent re-folds, concurrent folders and the beat tasks."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection

from plants.choices import DeviceType
from plants.models import Device
from solarhub.testing.personas import make_plant
from telemetry.ingest import metric_catalog, store_rows, telemetry_ingest
from telemetry.models import DirtyHour, Reading, Rollup
from telemetry.rollups import energy_buckets, rollups_fold, rollups_read, rollups_rebuild
from telemetry.rollups import fold as fold_module

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def ids() -> dict:
    return {key: spec.id for key, spec in metric_catalog(refresh=True).items()}


def device_in(tz: str, name: str = "P") -> Device:
    plant = make_plant(name=f"{name} {tz}", timezone=tz)
    return Device.objects.create(plant=plant, type=DeviceType.INVERTER, name="Inv", serial_number=f"S-{tz}-{name}")


def put(device: Device, key: str, samples: list[tuple[datetime, float]]) -> None:
    metric_id = ids()[key]
    store_rows([(device.id, metric_id, ts, value) for ts, value in samples])


def stored(device: Device, key: str, resolution: str) -> dict[datetime, tuple]:
    rows = Rollup.objects.filter(device=device, metric_id=ids()[key], resolution=resolution)
    return {r.bucket: (r.count, pytest.approx(r.sum), r.min, r.max, r.first, r.last) for r in rows.order_by("bucket")}


def direct(samples: list[tuple[datetime, float]], bucket_of) -> dict[datetime, tuple]:
    """count/sum/min/max/first/last per bucket, straight from the raw samples."""
    groups: dict[datetime, list[float]] = defaultdict(list)
    for ts, value in sorted(samples):
        groups[bucket_of(ts)].append(value)
    return {b: (len(v), pytest.approx(sum(v)), min(v), max(v), v[0], v[-1]) for b, v in groups.items()}


def five(ts: datetime) -> datetime:
    return ts.replace(minute=ts.minute - ts.minute % 5, second=0, microsecond=0)


def hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def local_day(tz: str):
    zone = ZoneInfo(tz)

    def bucket_of(ts: datetime) -> datetime:
        return datetime.combine(ts.astimezone(zone).date(), datetime.min.time(), tzinfo=zone).astimezone(UTC)

    return bucket_of


def energy(device: Device, resolution: str = "5min") -> dict[datetime, float]:
    rows = Rollup.objects.filter(device=device, metric_id=ids()["energy_produced"], resolution=resolution)
    return {r.bucket: r.sum for r in rows.order_by("bucket")}


# --- gauges against a direct computation -------------------------------------------------------


def test_gauge_rollups_equal_a_direct_computation_at_every_resolution():
    device = device_in("Europe/Berlin")
    rng = random.Random(5)
    samples = {
        "pv1_voltage": [
            (T0 + timedelta(seconds=rng.randrange(0, 3 * 3600)), rng.uniform(200, 400)) for _ in range(400)
        ],
        "internal_temp": [(T0 + n * 7 * M + timedelta(seconds=13), rng.uniform(20, 60)) for n in range(25)],
    }
    samples = {key: sorted(dict(rows).items()) for key, rows in samples.items()}  # unique timestamps
    for key, rows in samples.items():
        put(device, key, rows)
    assert rollups_fold() == 3
    for key, rows in samples.items():
        assert stored(device, key, "5min") == direct(rows, five)
        assert stored(device, key, "hour") == direct(rows, hour)
        assert stored(device, key, "day") == direct(rows, local_day("Europe/Berlin"))
    assert not DirtyHour.objects.exists()


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Berlin")), 23),
        (datetime(2026, 10, 25, tzinfo=ZoneInfo("Europe/Berlin")), 25),
    ],
    ids=["spring-23h", "autumn-25h"],
)
def test_daily_rollups_follow_the_plants_dst_days(day, hours):
    device = device_in("Europe/Berlin")
    start = day.astimezone(UTC) - timedelta(hours=6)
    samples = [(start + n * 10 * M, float(n % 17)) for n in range(6 * 40)]  # every 10 min for 40 h
    put(device, "ambient_temp", samples)
    rollups_fold()
    daily = stored(device, "ambient_temp", "day")
    assert daily == direct(samples, local_day("Europe/Berlin"))
    midnight = day.astimezone(UTC)
    assert daily[midnight][0] == hours * 6  # 23 or 25 hours of readings in that local day
    assert stored(device, "ambient_temp", "hour") == direct(samples, hour)


def test_kolkata_days_split_utc_hours_at_half_past():
    device = device_in("Asia/Kolkata")
    start = datetime(2026, 5, 10, 16, 0, tzinfo=UTC)
    samples = [(start + n * M * 3, float(n)) for n in range(100)]  # 16:00-20:57 UTC, across 18:30 UTC
    put(device, "module_temp", samples)
    rollups_fold()
    daily = stored(device, "module_temp", "day")
    assert daily == direct(samples, local_day("Asia/Kolkata"))
    boundary = datetime(2026, 5, 10, 18, 30, tzinfo=UTC)  # local midnight of 11 May
    assert set(daily) == {datetime(2026, 5, 9, 18, 30, tzinfo=UTC), boundary}
    assert daily[boundary][0] == sum(1 for ts, _ in samples if ts >= boundary)


# --- energy --------------------------------------------------------------------------------------


def test_counter_energy_spreads_short_intervals_and_counts_a_reset_as_energy_since_reset():
    device = device_in("UTC", "reset")
    counter = [(T0, 100.0), (T0 + 10 * M, 103.0), (T0 + 20 * M, 1.5), (T0 + 30 * M, 4.5)]  # reset at 10:20
    put(device, "energy_total", counter)
    rollups_fold()
    five_min = energy(device)
    assert five_min == pytest.approx(
        {T0: 1.5, T0 + 5 * M: 1.5, T0 + 10 * M: 0.75, T0 + 15 * M: 0.75, T0 + 20 * M: 1.5, T0 + 25 * M: 1.5}
    )
    assert energy(device, "hour") == pytest.approx({T0: 7.5})
    assert energy(device, "day") == pytest.approx({datetime(2026, 3, 2, tzinfo=UTC): 7.5})


def test_counter_gap_lands_whole_in_the_arrival_bucket():
    device = device_in("UTC", "gap")
    put(device, "energy_total", [(T0, 10.0), (T0 + 5 * M, 11.0), (T0 + 3 * 60 * M + 7 * M, 31.0)])
    put(device, "ac_power", [(T0 + n * 5 * M, 12.0) for n in range(40)])  # power also present: ignored near counter
    rollups_fold()
    five_min = energy(device)
    assert five_min[T0] == pytest.approx(1.0)
    arrival = T0 + 3 * 60 * M + 5 * M
    assert five_min[arrival] == pytest.approx(20.0)  # the 3-hour gap's energy, not spread
    # counter buckets around readings never use power; in the middle of the gap power fills in
    assert T0 + 5 * M not in five_min and arrival - 5 * M not in five_min
    assert five_min[T0 + 90 * M] == pytest.approx(1.0)  # 12 kW for 5 minutes


def test_power_integral_without_a_counter_and_no_integration_across_long_gaps():
    device = device_in("UTC", "power")
    power = [
        (T0, 0.0),
        (T0 + 2 * M, 6.0),
        (T0 + 7 * M, 6.0),
        (T0 + 10 * M, 0.0),
        (T0 + 40 * M, 6.0),
        (T0 + 45 * M, 6.0),
    ]
    put(device, "ac_power", power)
    rollups_fold()
    five_min = energy(device)
    # 10:00-10:02 ramp 0→6 (0.1 kWh), 10:02-10:05 at 6 (0.3 kWh); 10:05-10:07 at 6 (0.2), 10:07-10:10 ramp 6→0 (0.15)
    assert five_min[T0] == pytest.approx(0.4)
    assert five_min[T0 + 5 * M] == pytest.approx(0.35)
    assert T0 + 10 * M not in five_min and T0 + 35 * M not in five_min  # 30-minute gap: a gap, not a ramp
    assert five_min[T0 + 40 * M] == pytest.approx(0.5)
    assert energy(device, "hour")[T0] == pytest.approx(1.25)


def test_energy_buckets_pure_rules():
    wanted = [T0 + n * 5 * M for n in range(12)]
    # reference before the window: the first delta lands whole in its bucket
    result = energy_buckets(wanted=wanted, reference=50.0, counter=[(T0 + 2 * M, 53.0)], power=[])
    assert {b: a.sum for b, a in result.items()} == {T0: 3.0}
    # a counter that went down counts the new value (energy since reset)
    result = energy_buckets(wanted=wanted, reference=None, counter=[(T0, 90.0), (T0 + 5 * M, 2.0)], power=[])
    assert result[T0].sum == pytest.approx(2.0) and result[T0].count == 1


def test_a_late_counter_reading_updates_the_next_readings_bucket_in_a_later_hour():
    device = device_in("UTC", "late")
    put(device, "energy_total", [(T0 - 2 * 60 * M, 1000.0), (T0 + 2 * 60 * M + 30 * M, 1010.0)])
    rollups_fold()
    arrival = T0 + 2 * 60 * M + 30 * M
    assert energy(device)[arrival] == pytest.approx(10.0)
    put(device, "energy_total", [(T0 + 30 * M, 1004.0)])  # back-filled: dirty hour 10:00 only
    read = rollups_read(
        device_ids=[device.id],
        metric_ids=[ids()["energy_produced"]],
        resolution="5min",
        start=T0,
        end=T0 + 4 * 60 * M,
        tz=ZoneInfo("UTC"),
    )
    assert read[(device.id, ids()["energy_produced"], arrival)].sum == pytest.approx(6.0)  # never stale
    rollups_fold()
    assert energy(device)[arrival] == pytest.approx(6.0)
    assert energy(device)[T0 + 30 * M] == pytest.approx(4.0)
    assert energy(device, "day")[datetime(2026, 3, 2, tzinfo=UTC)] == pytest.approx(10.0)


# --- folding mechanics ---------------------------------------------------------------------------


def snapshot() -> list[tuple]:
    return sorted(
        Rollup.objects.values_list("device_id", "metric_id", "resolution", "bucket", "count", "sum", "min", "max")
    )


def test_refolding_is_idempotent_and_rebuild_clears_stale_rows():
    device = device_in("Europe/Berlin", "idem")
    put(device, "ac_power", [(T0 + n * M, 5.0 + n % 3) for n in range(150)])
    put(device, "energy_total", [(T0 + n * 15 * M, 10.0 + n) for n in range(10)])
    assert rollups_fold() == 3
    first = snapshot()
    assert rollups_fold() == 0
    assert rollups_rebuild(device_ids=[device.id], start=T0 - 60 * M, end=T0 + 5 * 60 * M) == 6
    assert rollups_fold() == 6
    assert snapshot() == first
    Rollup.objects.create(
        device=device,
        metric_id=ids()["ac_power"],
        resolution="5min",
        bucket=T0 + 4 * 60 * M,
        count=1,
        sum=1,
        min=1,
        max=1,
        first=1,
        last=1,
    )  # a stale row with no readings behind it
    rollups_rebuild(device_ids=[device.id], start=T0, end=T0 + 5 * 60 * M)
    rollups_fold()
    assert snapshot() == first


def test_fold_limit_and_late_ingest_during_a_fold_is_not_lost():
    device = device_in("UTC", "limit")
    put(device, "ac_power", [(T0 + n * 30 * M, 1.0) for n in range(8)])  # 4 hours
    assert rollups_fold(limit=3) == 3
    assert DirtyHour.objects.count() == 1
    assert rollups_fold() == 1
    telemetry_ingest(
        plant_ids=[device.plant_id],
        readings=[{"deviceId": device.id, "timestamp": "2026-03-02T10:10:00Z", "metrics": {"ac_power": 3.0}}],
    )
    assert DirtyHour.objects.filter(device=device, hour=T0).exists()
    rollups_fold()
    assert stored(device, "ac_power", "hour")[T0][0] == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED claims are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_concurrent_folders_claim_each_dirty_hour_once(monkeypatch, seeded_catalog):
    from django.db import connections

    devices = [device_in("UTC", f"c{n}") for n in range(6)]
    for device in devices:
        put(device, "ac_power", [(T0 + n * 10 * M, 2.0) for n in range(60)])  # 10 hours each
    assert DirtyHour.objects.count() == 60
    monkeypatch.setattr(fold_module, "BATCH", 4)
    barrier = threading.Barrier(4)
    counts: list[int] = []
    errors: list[BaseException] = []

    def work():
        try:
            barrier.wait()
            counts.append(rollups_fold())
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(counts) == 60  # every hour claimed by exactly one folder
    assert not DirtyHour.objects.exists()
    for device in devices:
        assert stored(device, "ac_power", "day")[datetime(2026, 3, 2, tzinfo=UTC)][0] == 60
        assert energy(device, "day")[datetime(2026, 3, 2, tzinfo=UTC)] == pytest.approx(2.0 * 590 / 60)
    Reading.objects.filter(device_id__in=[d.id for d in devices]).delete()  # unmanaged: not flushed


# --- tasks ---------------------------------------------------------------------------------------


def test_beat_schedule_and_tasks():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"telemetry.fold_rollups", "telemetry.partitions_ahead", "telemetry.drop_old_partitions"} <= schedule
    assert settings.TELEMETRY_RETENTION_DAYS == 730
    from telemetry import tasks

    device = device_in("UTC", "task")
    put(device, "ac_power", [(T0, 1.0), (T0 + 5 * M, 1.0)])
    tasks.fold_rollups.delay()
    assert not DirtyHour.objects.exists() and stored(device, "ac_power", "hour")
    tasks.partitions_ahead.delay()
    tasks.partitions_ahead.delay()  # idempotent
    tasks.drop_old_partitions.delay()
    assert stored(device, "ac_power", "hour")  # recent data survives retention
