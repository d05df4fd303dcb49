"""The plant power rollup: after every fold it equals Σ over the plant's inverters of their
5-minute mean ``ac_power`` (other devices and plants excluded), stays right when folders of one
plant's inverters run concurrently, follows a deleted inverter or a device changing type, and
the migration backfills what was folded before it existed."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.db import connection

from plants.choices import DeviceType
from plants.models import Device
from solarhub.testing.personas import make_plant
from telemetry.ingest import metric_catalog, store_rows
from telemetry.models import PlantPower, Reading, Rollup
from telemetry.rollups import fold as fold_module
from telemetry.rollups import rollups_fold

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def metric_id(key: str) -> int:
    return metric_catalog(refresh=True)[key].id


def five(ts: datetime) -> datetime:
    return ts.replace(minute=ts.minute - ts.minute % 5, second=0, microsecond=0)


def plant_power(plant) -> dict[datetime, tuple[float, int]]:
    return {r.bucket: (pytest.approx(r.power), r.devices) for r in PlantPower.objects.filter(plant=plant)}


def expected(samples: dict[Device, list[tuple[datetime, float]]]) -> dict[datetime, tuple[float, int]]:
    """Σ over devices of each device's mean per 5-minute bucket, computed straight from samples."""
    per_device: dict[datetime, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for device, rows in samples.items():
        for ts, value in rows:
            per_device[five(ts)][device.pk].append(value)
    return {
        bucket: (pytest.approx(sum(sum(v) / len(v) for v in devices.values())), len(devices))
        for bucket, devices in per_device.items()
    }


def put(device: Device, samples: list[tuple[datetime, float]], key: str = "ac_power") -> None:
    store_rows([(device.id, metric_id(key), ts, value) for ts, value in samples])


@pytest.fixture
def plant():
    return make_plant(name="Power plant", timezone="UTC")


def inverter(plant, serial: str, kind: str = DeviceType.INVERTER) -> Device:
    return Device.objects.create(plant=plant, type=kind, name=serial, serial_number=serial)


def test_fold_writes_the_sum_of_inverter_means_and_only_inverters_count(plant):
    inv1, inv2 = inverter(plant, "I1"), inverter(plant, "I2")
    meter = inverter(plant, "M1", DeviceType.METER)
    elsewhere = inverter(make_plant(name="Elsewhere", timezone="UTC"), "X1")
    samples = {
        inv1: [(T0 + n * M, 10.0 + n) for n in range(0, 60, 2)],  # every 2 minutes, rising
        inv2: [(T0 + 7 * M + n * M, 5.0) for n in range(0, 40, 3)],  # starts later, fewer buckets
    }
    for device, rows in samples.items():
        put(device, rows)
    put(meter, [(T0 + n * M, 1000.0) for n in range(60)])  # ac_power of a meter: not plant generation
    put(elsewhere, [(T0 + n * M, 77.0) for n in range(60)])
    rollups_fold()
    assert plant_power(plant) == expected(samples)
    assert plant_power(plant)[T0][1] == 1 and plant_power(plant)[T0 + 10 * M][1] == 2

    # late data in a folded hour: the refold replaces the plant's buckets of that hour
    late = [(T0 + 1 * M, 100.0)]
    put(inv2, late)
    rollups_fold()
    samples[inv2] = samples[inv2] + late
    assert plant_power(plant) == expected(samples)


def test_deleting_an_inverter_or_making_it_a_meter_removes_it_from_the_plant_power(
    plant, django_capture_on_commit_callbacks
):
    inv1, inv2, inv3 = inverter(plant, "I1"), inverter(plant, "I2"), inverter(plant, "I3")
    samples = {device: [(T0 + n * M, 10.0 * (i + 1)) for n in range(30)] for i, device in enumerate((inv1, inv2, inv3))}
    for device, rows in samples.items():
        put(device, rows)
    rollups_fold()
    assert plant_power(plant)[T0] == (pytest.approx(60.0), 3)
    with django_capture_on_commit_callbacks(execute=True):
        inv2.delete()
    assert plant_power(plant)[T0] == (pytest.approx(40.0), 2)
    with django_capture_on_commit_callbacks(execute=True):
        inv3.type = DeviceType.METER
        inv3.save()
    assert plant_power(plant)[T0] == (pytest.approx(10.0), 1)
    Reading.objects.filter(device_id__in=[inv1.id, inv3.id]).delete()


def test_migration_backfills_the_plant_power_of_folded_rollups(plant):
    import importlib

    inv1, inv2 = inverter(plant, "I1"), inverter(plant, "I2")
    samples = {inv1: [(T0 + n * M, 3.0) for n in range(20)], inv2: [(T0 + n * M, 4.0) for n in range(10)]}
    for device, rows in samples.items():
        put(device, rows)
    rollups_fold()
    PlantPower.objects.all().delete()  # as before the table existed
    importlib.import_module("telemetry.migrations.0005_plant_power").backfill(apps, None)
    assert plant_power(plant) == expected(samples)
    assert Rollup.objects.filter(device=inv1, metric_id=metric_id("ac_power"), resolution="5min").count() == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks and SKIP LOCKED are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_concurrent_folds_of_one_plants_inverters_leave_a_complete_plant_power(monkeypatch, seeded_catalog):
    from django.db import connections

    plant = make_plant(name="Busy plant", timezone="UTC")
    devices = [inverter(plant, f"C{n}") for n in range(8)]
    samples = {device: [(T0 + n * 5 * M, float(i + 1)) for n in range(24)] for i, device in enumerate(devices)}
    for device, rows in samples.items():
        put(device, rows)  # 8 inverters x 2 hours, the same hours
    monkeypatch.setattr(fold_module, "BATCH", 2)  # many small transactions, racing on the same plant-hours
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work():
        try:
            barrier.wait()
            rollups_fold()
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors
        assert plant_power(plant) == expected(samples)
        assert all(devices == 8 for _, devices in plant_power(plant).values())
    finally:
        Reading.objects.filter(device_id__in=[d.id for d in devices]).delete()  # unmanaged: not flushed
