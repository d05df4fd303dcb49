"""Live fields on the plant/device lists, the dashboard and the monitoring endpoints.

Readings go in through the real ingest service with timestamps relative to now (freshness is
"within 15 minutes of now"); rollup rows are written directly where a test needs folded data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plants.choices import DeviceType, PlantStatus
from plants.models import Device, Plant
from solarhub.testing.personas import api_client_for, make_plant
from telemetry.ingest import telemetry_ingest
from telemetry.live import bucket_floor, local_midnight, plant_daily_energy, plant_energy_today
from telemetry.models import DirtyHour, Metric, PlantPower, Rollup
from telemetry.rollups import rollups_fold
from telemetry.rollups.plant_power import plant_power_rebuild

pytestmark = pytest.mark.django_db


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ingest(plant: Plant, *readings: tuple[Device, datetime, dict]) -> None:
    result = telemetry_ingest(
        plant_ids=[plant.id],
        readings=[{"deviceId": d.id, "timestamp": iso(ts), "metrics": metrics} for d, ts, metrics in readings],
    )
    assert result.rejected == 0, result.errors


def device(plant: Plant, serial: str, kind: str = DeviceType.INVERTER) -> Device:
    return Device.objects.create(plant=plant, type=kind, name=serial, serial_number=serial)


def today_start(plant: Plant) -> datetime:
    zone = ZoneInfo(plant.timezone)
    return local_midnight(datetime.now(UTC).astimezone(zone).date(), zone)


def recent(plant: Plant, seconds: int = 30) -> datetime:
    """A fresh timestamp that is also inside the plant-local today (even just after midnight)."""
    return max(datetime.now(UTC) - timedelta(seconds=seconds), today_start(plant) + timedelta(seconds=2))


def counted_today(plant: Plant, dev: Device, start: float, produced: float) -> None:
    """Two lifetime-counter readings today, ten minutes apart (or from just after midnight):
    ``energy_produced`` of today is their difference."""
    first = max(datetime.now(UTC) - timedelta(minutes=10), today_start(plant) + timedelta(seconds=1))
    ingest(plant, (dev, first, {"energy_total": start}), (dev, recent(plant, 5), {"energy_total": start + produced}))


def rollup(dev: Device, key: str, resolution: str, bucket: datetime, *, count: int, total: float) -> Rollup:
    metric = Metric.objects.get(key=key)
    return Rollup.objects.create(
        device=dev, metric=metric, resolution=resolution, bucket=bucket, count=count, sum=total,
        min=total / count, max=total / count, first=total / count, last=total / count,
    )  # fmt: skip


# --- live fields on the plant and device lists ------------------------------------------------------


def test_plant_and_device_lists_show_live_fields_after_ingest(customer, own_plant):
    inv1, inv2 = device(own_plant, "INV-1"), device(own_plant, "INV-2")
    t1, t2 = recent(own_plant, 90), recent(own_plant, 30)
    ingest(
        own_plant,
        (inv1, t1, {"ac_power": 10.0, "dc_power": 10.5, "status_code": 4}),
        (inv2, t2, {"ac_power": 20.0, "dc_power": 21.0}),
    )
    client = api_client_for(customer)

    plant = client.get("/api/plants").json()[0]
    assert plant["currentGeneration"] == 30.0
    assert plant["efficiency"] == round(30 / 31.5 * 100, 2)
    assert plant["status"] == "online"
    assert plant["lastUpdate"] == iso(t2)
    assert client.get(f"/api/plants/{own_plant.id}").json()["currentGeneration"] == 30.0

    devices = {d["id"]: d for d in client.get("/api/devices").json()}
    assert devices[inv1.id]["status"] == "online" and devices[inv1.id]["currentOutput"] == 10.0
    assert devices[inv1.id]["efficiency"] == round(10 / 10.5 * 100, 2)
    assert devices[inv2.id]["lastUpdate"] == iso(t2)
    detail = client.get(f"/api/devices/{inv1.id}").json()
    assert detail["lastCommunication"] == detail["lastUpdate"] == iso(t1)
    nested = {d["id"]: d["currentOutput"] for d in client.get(f"/api/plants/{own_plant.id}/devices").json()}
    assert nested == {inv1.id: 10.0, inv2.id: 20.0}
    assert {d["id"]: d["status"] for d in client.get("/api/devices/inverters").json()} == {
        inv1.id: "online",
        inv2.id: "online",
    }


def test_stale_values_are_not_live_and_make_devices_and_plants_offline(customer, own_plant):
    inv = device(own_plant, "INV-1")
    old = datetime.now(UTC) - timedelta(minutes=16)
    ingest(own_plant, (inv, old, {"ac_power": 40.0, "dc_power": 41.0}))
    client = api_client_for(customer)
    plant = client.get("/api/plants").json()[0]
    assert (plant["status"], plant["currentGeneration"], plant["efficiency"]) == ("offline", None, None)
    assert plant["lastUpdate"] == iso(old)
    item = client.get("/api/devices").json()[0]
    assert (item["status"], item["currentOutput"], item["efficiency"]) == ("offline", None, None)
    assert item["lastUpdate"] == iso(old)


def test_fault_status_comes_from_status_code_7_and_maintenance_from_the_plant(customer, own_plant):
    faulty, fine = device(own_plant, "INV-F"), device(own_plant, "INV-OK")
    ingest(
        own_plant,
        (faulty, recent(own_plant), {"ac_power": 0.0, "status_code": 7}),
        (fine, recent(own_plant), {"ac_power": 5.0, "status_code": 4}),
    )
    client = api_client_for(customer)
    assert {d["id"]: d["status"] for d in client.get("/api/devices").json()} == {faulty.id: "fault", fine.id: "online"}
    assert client.get(f"/api/devices/{faulty.id}").json()["status"] == "fault"
    Plant.objects.filter(pk=own_plant.pk).update(status=PlantStatus.MAINTENANCE)
    assert client.get("/api/plants").json()[0]["status"] == "maintenance"


def test_efficiency_pairs_ac_and_dc_per_inverter(customer, own_plant):
    with_dc, without_dc = device(own_plant, "INV-1"), device(own_plant, "INV-2")
    ingest(
        own_plant,
        (with_dc, recent(own_plant), {"ac_power": 9.0, "dc_power": 10.0}),
        (without_dc, recent(own_plant), {"ac_power": 6.0}),
    )
    plant = api_client_for(customer).get("/api/plants").json()[0]
    assert plant["currentGeneration"] == 15.0 and plant["efficiency"] == 90.0  # not 150 %


def _with_telemetry(plant: Plant, serial: str) -> Device:
    inv = device(plant, serial)
    ingest(plant, (inv, recent(plant), {"ac_power": 3.0, "dc_power": 3.2, "status_code": 4, "energy_total": 9.0}))
    return inv


def test_list_query_counts_stay_constant_as_plants_and_devices_grow(
    plant_admin, customer, own_plant, django_assert_max_num_queries
):
    admin, owner = api_client_for(plant_admin), api_client_for(customer)
    for n in range(3):
        _with_telemetry(make_plant(name=f"Q{n}"), f"Q{n}")
        _with_telemetry(own_plant, f"D{n}")
    with django_assert_max_num_queries(4):
        assert len(admin.get("/api/plants").json()) == 4
    with django_assert_max_num_queries(4):
        assert len(owner.get("/api/devices").json()) == 3
    for n in range(3, 30):
        _with_telemetry(make_plant(name=f"Q{n}"), f"Q{n}")
    for n in range(3, 40):
        _with_telemetry(own_plant, f"D{n}")
    with django_assert_max_num_queries(4):
        plants = admin.get("/api/plants").json()
    assert len(plants) == 31 and all(p["currentGeneration"] for p in plants)
    with django_assert_max_num_queries(4):
        devices = owner.get("/api/devices").json()
    assert len(devices) == 40 and {d["status"] for d in devices} == {"online"}
    with django_assert_max_num_queries(4):
        assert len(owner.get(f"/api/plants/{own_plant.id}/devices").json()) == 40
    with django_assert_max_num_queries(4):
        assert len(owner.get("/api/devices/inverters").json()) == 40
    with django_assert_max_num_queries(4):
        body = owner.get(f"/api/monitoring/devices?plantId={own_plant.id}").json()
    assert body["total"] == 40 and body["items"][0]["metricSummary"]["acPower"] == 3.0


def test_overview_query_count_does_not_grow_with_devices(customer, own_plant, django_assert_max_num_queries):
    client = api_client_for(customer)
    for n in range(2):
        _with_telemetry(own_plant, f"S{n}")
    with django_assert_max_num_queries(20) as few:
        assert client.get(f"/api/dashboard/overview?plantId={own_plant.id}").status_code == 200
    for n in range(2, 25):
        _with_telemetry(own_plant, f"S{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(f"/api/dashboard/overview?plantId={own_plant.id}").json()
    assert body["devices"]["total"] == 25 and body["metrics"]["totalPowerKw"] == 75.0


# --- dashboard ----------------------------------------------------------------------------------------


def test_overview_numbers_match_a_hand_computation(customer, own_plant):
    inv1, inv2, inv3 = device(own_plant, "INV-1"), device(own_plant, "INV-2"), device(own_plant, "INV-3")
    wms1 = device(own_plant, "WMS-1", DeviceType.WEATHER_STATION)
    wms2 = device(own_plant, "WMS-2", DeviceType.WEATHER_STATION)
    stale = datetime.now(UTC) - timedelta(minutes=20)
    counted_today(own_plant, inv1, 100.0, 12.5)
    counted_today(own_plant, inv2, 200.0, 30.0)
    ingest(
        own_plant,
        (inv1, recent(own_plant), {"ac_power": 10.0, "dc_power": 10.5, "status_code": 4}),
        (inv2, recent(own_plant), {"ac_power": 20.0, "dc_power": 21.0, "status_code": 7}),
        (inv3, stale, {"ac_power": 99.0, "dc_power": 100.0}),  # one power sample: no energy
        (wms1, recent(own_plant), {"irradiance_poa": 800.0, "module_temp": 45.0, "ambient_temp": 20.0}),
        (wms2, recent(own_plant), {"irradiance_poa": 820.0, "irradiance_ghi": 600.0}),
    )
    from alarms.services import alarm_acknowledge, alarm_create_manual

    alarm_create_manual(plant=own_plant, by=None, title="Open one", severity="low")
    alarm_acknowledge(alarm=alarm_create_manual(plant=own_plant, by=None, title="Seen", severity="low"), by=customer)
    client = api_client_for(customer)
    body = client.get(f"/api/dashboard/overview?plantId={own_plant.id}&hours=1").json()
    metrics = body["metrics"]
    assert metrics["totalPowerKw"] == 30.0  # the stale 99 kW does not count
    assert metrics["efficiency"] == round(30 / 31.5 * 100, 2)
    assert metrics["energyTodayKwh"] == 42.5  # counter differences of today; a lone power sample adds nothing
    assert metrics["liveIrradiance"] == metrics["irradiancePoa"] == 810.0 and metrics["irradianceGhi"] == 600.0
    assert metrics["temperatureC"] == metrics["ambientTemperatureC"] == 20.0
    assert metrics["moduleTemperatureC"] == 45.0
    assert metrics["alarmCounts"] == {"open": 1, "acknowledged": 1, "closed": 0}
    assert metrics["alarmCountsAvailable"] is True
    assert body["devices"] == {"online": 3, "offline": 1, "fault": 1, "total": 5}
    assert body["plant"]["capacityKw"] == body["plant"]["outputKw"] == 500.0
    assert body["plant"]["status"] == "online"
    assert body["timezone"] == body["plant"]["timezone"] == "America/Los_Angeles"
    series = client.get(f"/api/dashboard/realtime-power?plantId={own_plant.id}&hours=1").json()["series"]
    assert body["window"]["peakPowerKw"] == max(p["powerKw"] for p in series if p["powerKw"] is not None)
    assert body["window"]["hours"] == 1


def test_plant_id_is_required_unless_exactly_one_plant_is_visible(customer, plant_admin, own_plant, other_plant):
    assert api_client_for(customer).get("/api/dashboard/overview").json()["plant"]["id"] == own_plant.id
    response = api_client_for(plant_admin).get("/api/dashboard/overview")
    assert response.status_code == 400 and "plantId" in response.json()["errors"]


def test_invisible_plants_and_devices_are_404(customer, own_plant, other_plant):
    client = api_client_for(customer)
    foreign = device(other_plant, "X-1")
    own_inverter = device(own_plant, "INV-1")
    for path in ("overview", "realtime-power", "daily-energy"):
        response = client.get(f"/api/dashboard/{path}?plantId={other_plant.id}")
        assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
        assert client.get(f"/api/dashboard/{path}?plantId=999999").status_code == 404
    assert client.get(f"/api/monitoring/devices?plantId={other_plant.id}").status_code == 404
    assert client.get(f"/api/monitoring/metrics/inverter/{foreign.id}").status_code == 404
    assert client.get(f"/api/monitoring/metrics/weather_station/{own_inverter.id}").status_code == 404  # wrong type
    assert client.get(f"/api/monitoring/metrics/toaster/{own_inverter.id}").status_code == 404
    assert client.get(f"/api/monitoring/metrics/inverter/{own_inverter.id}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "dashboard/overview?hours=0",
        "dashboard/overview?hours=169",
        "dashboard/realtime-power?hours=100000",
        "dashboard/realtime-power?hours=abc",
        "dashboard/daily-energy?days=0",
        "dashboard/daily-energy?days=367",
        "dashboard/daily-energy?days=-1",
        "dashboard/overview?plantId=abc",
        "monitoring/devices?type=toaster",
        "monitoring/devices?plantId=1.5",
        "monitoring/metrics/inverter/{device}?hours=169",
    ],
)
def test_limits_and_bad_parameters_are_400(customer, own_plant, query):
    inv = device(own_plant, "INV-1")
    response = api_client_for(customer).get("/api/" + query.format(device=inv.id))
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_largest_allowed_windows_answer(customer, own_plant):
    inv = device(own_plant, "INV-1")
    client = api_client_for(customer)
    assert len(client.get("/api/dashboard/realtime-power?hours=168").json()["series"]) == 168 * 12
    assert len(client.get("/api/dashboard/daily-energy?days=366").json()["data"]) == 366
    assert len(client.get(f"/api/monitoring/metrics/inverter/{inv.id}?hours=168").json()["history"]) == 168 * 12


@pytest.mark.parametrize("inline_limit", [48, 0], ids=["dirty-ranges-inline", "dirty-anti-join"])
def test_realtime_power_unions_folded_rollups_with_the_dirty_tail_and_keeps_gaps_null(
    customer, own_plant, monkeypatch, inline_limit
):
    monkeypatch.setattr("telemetry.live.series._INLINE_DIRTY", inline_limit)  # both ways of excluding dirty hours
    inv1, inv2 = device(own_plant, "INV-1"), device(own_plant, "INV-2")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    dirty_bucket = hour - timedelta(hours=1) + timedelta(minutes=20)
    folded_bucket = hour - timedelta(hours=2) + timedelta(minutes=10)
    ingest(
        own_plant,
        (inv1, dirty_bucket + timedelta(minutes=1), {"ac_power": 10.0}),
        (inv1, dirty_bucket + timedelta(minutes=3), {"ac_power": 20.0}),  # inv1 mean 15
        (inv2, dirty_bucket + timedelta(minutes=2), {"ac_power": 5.0}),
        (inv1, folded_bucket + timedelta(minutes=1), {"ac_power": 1.0}),  # raw of a folded hour: not read
    )
    # The hour of folded_bucket has been folded (rollup and plant power written, dirty mark gone)...
    DirtyHour.objects.filter(hour=folded_bucket.replace(minute=0)).delete()
    rollup(inv1, "ac_power", "5min", folded_bucket, count=2, total=14.0)
    # ...while a rollup and a plant power row left over in the still-dirty hour are stale and ignored.
    rollup(inv2, "ac_power", "5min", dirty_bucket, count=1, total=1000.0)
    plant_power_rebuild(plant_id=own_plant.id, start=hour - timedelta(hours=3), end=hour)
    assert PlantPower.objects.get(plant=own_plant, bucket=dirty_bucket).power == 1000.0  # stale on purpose

    body = api_client_for(customer).get(f"/api/dashboard/realtime-power?plantId={own_plant.id}&hours=3").json()
    assert body["resolution"] == "5min" and body["unit"] == "kW" and body["timezone"] == "America/Los_Angeles"
    points = {p["timestamp"]: p for p in body["series"]}
    assert len(body["series"]) == 36
    assert points[iso(dirty_bucket)]["powerKw"] == 20.0 and points[iso(dirty_bucket)]["devicesReporting"] == 2
    assert points[iso(folded_bucket)]["powerKw"] == 7.0 and points[iso(folded_bucket)]["devicesReporting"] == 1
    assert points[iso(dirty_bucket + timedelta(minutes=5))]["powerKw"] is None  # a gap, not a zero
    assert sum(p["powerKw"] is not None for p in body["series"]) == 2
    assert body["series"][-1]["timestamp"] == iso(bucket_floor(datetime.now(UTC)))


def _last_dst_change(zone: ZoneInfo, before: date) -> date:
    day = before
    while local_midnight(day + timedelta(days=1), zone) - local_midnight(day, zone) == timedelta(hours=24):
        day -= timedelta(days=1)
    return day


def test_daily_energy_uses_plant_local_days_across_a_dst_change(customer):
    plant = make_plant(name="Berlin", owner=customer, timezone="Europe/Berlin", latitude=52.5, longitude=13.4)
    zone = ZoneInfo("Europe/Berlin")
    inv1, inv2 = device(plant, "B-1"), device(plant, "B-2")
    today = datetime.now(UTC).astimezone(zone).date()
    dst_day = _last_dst_change(zone, today - timedelta(days=2))
    for offset, (first, second) in zip((-1, 0, 1), ((10.0, 1.0), (20.0, 2.0), (30.0, 3.0)), strict=True):
        bucket = local_midnight(dst_day + timedelta(days=offset), zone)
        rollup(inv1, "energy_produced", "day", bucket, count=1, total=first)
        rollup(inv2, "energy_produced", "day", bucket, count=1, total=second)
    counted_today(plant, inv1, 1000.0, 7.5)

    days = (today - dst_day).days + 3
    body = api_client_for(customer).get(f"/api/dashboard/daily-energy?plantId={plant.id}&days={days}").json()
    assert body["timezone"] == "Europe/Berlin" and body["unit"] == "kWh" and len(body["data"]) == days
    rows = {row["date"]: row for row in body["data"]}
    before, dst, after = (rows[(dst_day + timedelta(days=k)).isoformat()] for k in (-1, 0, 1))
    assert (before["energyKwh"], dst["energyKwh"], after["energyKwh"]) == (11.0, 22.0, 33.0)
    length = datetime.fromisoformat(dst["end"]) - datetime.fromisoformat(dst["start"])
    assert length in (timedelta(hours=23), timedelta(hours=25))
    assert dst["start"] == iso(local_midnight(dst_day, zone))  # local midnight, not UTC midnight
    assert body["data"][-1]["date"] == today.isoformat() and body["data"][-1]["energyKwh"] == 7.5
    assert body["data"][0]["energyKwh"] is None  # no rollup that day: null, never invented


def test_daily_energy_on_the_spring_forward_day_with_a_fixed_clock(customer):
    plant = make_plant(name="Berlin spring", owner=customer, timezone="Europe/Berlin", latitude=52.5, longitude=13.4)
    inv = device(plant, "B-1")
    # 2026-03-29 is 23 hours long in Berlin: it starts at 23:00Z and the next day at 22:00Z.
    rollup(inv, "energy_produced", "day", datetime(2026, 3, 27, 23, tzinfo=UTC), count=1, total=5.0)
    rollup(inv, "energy_produced", "day", datetime(2026, 3, 28, 23, tzinfo=UTC), count=1, total=4.0)
    for hour, kwh in ((8, 1.0), (9, 2.0)):  # today so far: the hourly rollups (a daily one would be stale)
        rollup(inv, "energy_produced", "hour", datetime(2026, 3, 30, hour, tzinfo=UTC), count=1, total=kwh)
    rows = plant_daily_energy(plant=plant, days=4, now=datetime(2026, 3, 30, 10, tzinfo=UTC))
    assert [(row.day.isoformat(), row.energy_kwh) for row in rows] == [
        ("2026-03-27", None),  # no data: null, not zero
        ("2026-03-28", 5.0),
        ("2026-03-29", 4.0),
        ("2026-03-30", 3.0),
    ]
    assert rows[2].end - rows[2].start == timedelta(hours=23)


def test_todays_energy_is_the_same_before_and_after_the_folder_runs(customer, own_plant):
    inv1, inv2 = device(own_plant, "E-1"), device(own_plant, "E-2")
    counted_today(own_plant, inv1, 500.0, 4.0)
    start = bucket_floor(datetime.now(UTC)) - timedelta(minutes=10)
    if start >= today_start(own_plant):  # a power-only inverter: 6 kW for ten minutes = 1 kWh
        ingest(own_plant, *((inv2, start + timedelta(minutes=m), {"ac_power": 6.0}) for m in (0, 5, 10)))
        expected = 5.0
    else:
        expected = 4.0
    client = api_client_for(customer)

    def today() -> tuple[float, float]:
        daily = client.get(f"/api/dashboard/daily-energy?plantId={own_plant.id}&days=1").json()["data"]
        overview = client.get(f"/api/dashboard/overview?plantId={own_plant.id}").json()["metrics"]
        return daily[-1]["energyKwh"], overview["energyTodayKwh"]

    assert today() == (expected, expected)  # nothing folded yet: the real-time path
    rollups_fold()
    assert not DirtyHour.objects.exists()
    assert Rollup.objects.filter(resolution="day", metric__key="energy_produced").exists()
    assert today() == (expected, expected)  # from the daily rollups now
    assert plant_energy_today(plant=own_plant) == expected


def test_energy_today_in_a_half_hour_zone_takes_5_minute_edges_and_whole_hours(customer):
    plant = make_plant(name="Pune", owner=customer, timezone="Asia/Kolkata", latitude=18.5, longitude=73.8)
    inv = device(plant, "K-1")
    at = lambda h, m=0: datetime(2026, 5, 31, h, m, tzinfo=UTC) if h >= 18 else datetime(2026, 6, 1, h, m, tzinfo=UTC)  # noqa: E731
    rollup(inv, "energy_produced", "5min", at(18, 25), count=1, total=9.0)  # 23:55 yesterday, local
    rollup(inv, "energy_produced", "5min", at(18, 30), count=1, total=1.0)  # local midnight
    rollup(inv, "energy_produced", "5min", at(18, 55), count=1, total=0.5)
    rollup(inv, "energy_produced", "hour", at(19), count=1, total=2.0)  # the whole UTC hours of today
    rollup(inv, "energy_produced", "5min", at(19, 5), count=1, total=7.0)  # inside that hour: not twice
    assert plant_energy_today(plant=plant, now=datetime(2026, 6, 1, 6, tzinfo=UTC)) == 3.5


# --- monitoring -----------------------------------------------------------------------------------------


def test_monitoring_devices_lists_exactly_the_visible_devices_with_status_and_key_values(
    customer, plant_admin, own_plant, other_plant
):
    inv, wms = device(own_plant, "INV-1"), device(own_plant, "WMS-1", DeviceType.WEATHER_STATION)
    silent = device(own_plant, "INV-2")
    foreign = device(other_plant, "X-1")
    ingest(
        own_plant,
        (inv, recent(own_plant), {"ac_power": 12.0, "dc_power": 12.5, "status_code": 7, "pv1_voltage": 600.0}),
        (wms, recent(own_plant), {"irradiance_poa": 750.0, "ambient_temp": 18.0}),
    )
    ingest(other_plant, (foreign, recent(other_plant), {"ac_power": 1.0}))
    client = api_client_for(customer)
    body = client.get("/api/monitoring/devices").json()
    assert body["total"] == 3 and {item["deviceId"] for item in body["items"]} == {inv.id, wms.id, silent.id}
    items = {item["deviceId"]: item for item in body["items"]}
    assert items[inv.id]["status"] == "fault" and items[wms.id]["status"] == "online"
    assert items[silent.id]["status"] == "offline" and items[silent.id]["lastCommunication"] is None
    assert items[inv.id]["metricSummary"] == {"acPower": 12.0, "dcPower": 12.5, "statusCode": 7.0}
    assert items[wms.id]["metricSummary"] == {"irradiancePoa": 750.0, "ambientTemp": 18.0}
    assert items[inv.id]["deviceType"] == "inverter" and items[inv.id]["plantId"] == own_plant.id
    assert items[inv.id]["recordedAt"] == items[inv.id]["lastCommunication"] is not None

    def ids(query: str, who=client) -> set[int]:
        return {item["deviceId"] for item in who.get(f"/api/monitoring/devices{query}").json()["items"]}

    assert ids("?type=inverter") == {inv.id, silent.id}
    assert ids("?type=wms_box") == {wms.id}  # seed 000's name for a weather station
    assert ids(f"?plantId={own_plant.id}&type=weather_station") == {wms.id}
    assert ids("", api_client_for(plant_admin)) == {inv.id, wms.id, silent.id, foreign.id}
    assert ids(f"?plantId={other_plant.id}", api_client_for(plant_admin)) == {foreign.id}
    paged = client.get("/api/monitoring/devices?pageSize=2")
    assert paged.json()["total"] == 3 and len(paged.json()["items"]) == 2 and paged["X-Total-Count"] == "3"


def test_monitoring_metrics_gives_the_recent_key_metric_series(customer, own_plant):
    inv = device(own_plant, "INV-1")
    start = bucket_floor(datetime.now(UTC)) - timedelta(minutes=30)
    ingest(
        own_plant,
        (inv, start + timedelta(minutes=1), {"ac_power": 10.0, "dc_power": 11.0, "energy_total": 100.0}),
        (inv, start + timedelta(minutes=2), {"ac_power": 20.0, "status_code": 4, "energy_total": 101.0}),
        (inv, start + timedelta(minutes=11), {"ac_power": 30.0}),
    )
    body = api_client_for(customer).get(f"/api/monitoring/metrics/inverter/{inv.id}?hours=1").json()
    assert (body["deviceType"], body["deviceId"], body["resolution"]) == ("inverter", inv.id, "5min")
    assert body["units"] == {"acPower": "kW", "dcPower": "kW", "energyTotal": "kWh"}  # status codes are no series
    points = {p["timestamp"]: p["metrics"] for p in body["history"]}
    assert len(body["history"]) == 12
    assert points[iso(start)] == {"acPower": 15.0, "dcPower": 11.0, "energyTotal": 101.0}
    assert points[iso(start + timedelta(minutes=5))] == {"acPower": None, "dcPower": None, "energyTotal": None}
    assert points[iso(start + timedelta(minutes=10))]["acPower"] == 30.0
    # seed 000's device-type names address the same device
    assert api_client_for(customer).get(f"/api/monitoring/metrics/inverters/{inv.id}").status_code == 200


def test_cached_energy_today_follows_every_ingest_and_fold(own_plant):
    """Today's energy of unfolded hours is cached under the dirty-mark state: a new reading in
    an hour that is already dirty, and a fold, each give the fresh figure."""
    inv = device(own_plant, "INV-C")
    counted_today(own_plant, inv, 1000.0, 2.0)
    assert plant_energy_today(plant=own_plant) == 2.0
    assert plant_energy_today(plant=own_plant) == 2.0  # from the cache
    ingest(own_plant, (inv, recent(own_plant, 1), {"energy_total": 1003.5}))  # the same (dirty) hour
    assert plant_energy_today(plant=own_plant) == 3.5
    rollups_fold()
    assert not DirtyHour.objects.exists()
    assert plant_energy_today(plant=own_plant) == 3.5
