"""Data quality on ingest (``telemetry.quality``): flat-lined (stuck) values and stale metrics on
the monitoring list, completeness and devices reporting per bucket on the time series, and the
simulator's stuck sensor and silent inverter found in real ingested data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from demo.seed import demo_seed
from plants.choices import DeviceType
from plants.models import Device, Plant
from solarhub.testing.personas import api_client_for
from telemetry.ingest import store_rows
from telemetry.models import LatestValue
from telemetry.quality import FLATLINE_READINGS, latest_runs, should_vary
from telemetry.rollups import rollups_fold
from telemetry.simulator import telemetry_simulate

pytestmark = pytest.mark.django_db

M5 = timedelta(minutes=5)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def station(own_plant):
    return Device.objects.create(plant=own_plant, type=DeviceType.WEATHER_STATION, name="WS", serial_number="WS-1")


@pytest.fixture
def inverter(own_plant):
    return Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inv 1", serial_number="INV-1")


def post(client, device, readings: list[tuple[datetime, dict]]) -> dict:
    body = {"readings": [{"deviceId": device.id, "timestamp": iso(ts), "metrics": m} for ts, m in readings]}
    response = client.post("/api/telemetry/ingest", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def monitored(client, device) -> dict:
    items = client.get("/api/monitoring/devices").json()["items"]
    return next(item for item in items if item["id"] == device.id)


def test_a_stuck_irradiance_sensor_is_flagged_across_batches_and_clears_when_it_moves(installer, station):
    client = api_client_for(installer)
    start = timezone.now().replace(microsecond=0) - (FLATLINE_READINGS + 2) * M5
    steps = [start + n * M5 for n in range(FLATLINE_READINGS + 2)]
    # two live readings, then the sensor sticks at 512 W/m² for 12 readings, posted in two batches
    readings = [(ts, {"irradiance_poa": 400.0 + n if n < 2 else 512.0, "ambient_temp": 20.0 + n / 10})
                for n, ts in enumerate(steps)]  # fmt: skip
    post(client, station, readings[:8])
    item = monitored(client, station)
    assert (item["flatlined"], item["quality"]["flatlinedMetrics"]) == (False, [])  # 6 repeats so far
    post(client, station, readings[8:])
    latest = LatestValue.objects.get(device=station, metric__key="irradiance_poa")
    assert (latest.repeats, latest.repeat_since) == (FLATLINE_READINGS, steps[2])
    item = monitored(client, station)
    assert item["flatlined"] is True and item["quality"] == {"staleMetrics": [], "flatlinedMetrics": ["irradiance_poa"]}
    assert item["stale"] is False and item["status"] == "online"

    post(client, station, readings[8:])  # a replay changes nothing, the run is not counted twice
    assert LatestValue.objects.get(device=station, metric__key="irradiance_poa").repeats == FLATLINE_READINGS

    post(client, station, [(steps[-1] + M5, {"irradiance_poa": 530.0, "ambient_temp": 21.6})])
    item = monitored(client, station)
    assert item["flatlined"] is False and item["quality"]["flatlinedMetrics"] == []
    assert LatestValue.objects.get(device=station, metric__key="irradiance_poa").repeats == 1


def test_zero_at_night_and_quantities_that_may_hold_are_never_flatlined(installer, station, inverter):
    client = api_client_for(installer)
    start = timezone.now().replace(microsecond=0) - 20 * M5
    night = [(start + n * M5, {"irradiance_poa": 0.0, "wind_speed": 0.0}) for n in range(16)]
    post(client, station, night)
    post(client, inverter, [(start + n * M5, {"ac_power": 0.0, "energy_today": 42.0, "power_factor": 1.0,
                                              "status_code": 8.0}) for n in range(16)])  # fmt: skip
    assert monitored(client, station)["flatlined"] is False
    assert monitored(client, inverter)["flatlined"] is False
    assert not should_vary("energy_today") and not should_vary("soc") and should_vary("string12_current")


def test_a_metric_that_stopped_arriving_is_stale(installer, inverter):
    client = api_client_for(installer)
    now = timezone.now().replace(microsecond=0)
    post(client, inverter, [(now - 40 * timedelta(minutes=1), {"ac_power": 5.0, "dc_power": 5.2, "status_code": 4})])
    post(client, inverter, [(now - n * M5, {"ac_power": 5.0 + n}) for n in range(4)])  # DC stopped 40 min ago
    item = monitored(client, inverter)
    # status codes are sent on change only: never stale
    assert item["stale"] is True and item["quality"]["staleMetrics"] == ["dc_power"]


def test_latest_runs_of_a_sorted_batch():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [(1, 1, t, 5.0), (1, 1, t + M5, 6.0), (1, 1, t + 2 * M5, 6.0), (1, 2, t, 3.0), (1, 2, t + M5, 3.0)]
    first, second = latest_runs(rows)
    assert (first.ts, first.value, first.repeats, first.since, first.whole) == (t + 2 * M5, 6.0, 2, t + M5, False)
    assert (second.repeats, second.since, second.whole) == (2, t, True)


# -- completeness and flat-lined buckets on the time series -----------------------------------------


def test_completeness_of_hourly_buckets_and_flatlined_hours(customer, station):
    day = datetime(2026, 6, 1, tzinfo=UTC)
    rows_by = []
    for n in range(24):  # hour 10: every 5 minutes; hour 11: 6 of 12 slots; hour 12: nothing
        ts = day + timedelta(hours=10) + n * M5
        if n >= 12 and n % 2:
            continue
        rows_by.append((ts, {"module_temp": 31.5 if n < 12 else 30.0 + n}))
    from telemetry.ingest import telemetry_ingest

    result = telemetry_ingest(
        plant_ids=[station.plant_id],
        readings=[{"deviceId": station.id, "timestamp": iso(ts), "metrics": m} for ts, m in rows_by],
    )
    assert result.accepted == 18
    client = api_client_for(customer)
    url = (
        f"/api/devices/{station.id}/timeseries?metric=module_temp&resolution=hour"
        f"&startTime={iso(day + timedelta(hours=10))}&endTime={iso(day + timedelta(hours=13))}"
    )
    for _fold in (False, True):  # the real-time tail answers what the folded rollups answer
        body = client.get(url).json()
        assert [(p["value"], p["completeness"]) for p in body["data"]] == [(31.5, 1), (pytest.approx(47.0), 0.5),
                                                                            (None, 0)]  # fmt: skip
        assert body["quality"] == {"completeness": 0.5, "gaps": 1, "flatlined": [iso(day + timedelta(hours=10))]}
        rollups_fold()
    day_body = client.get(url.replace("resolution=hour", "resolution=day")).json()
    assert day_body["data"][0]["completeness"] == pytest.approx(18 / 288, abs=0.001)


# -- the simulator's faults, found in what was ingested ---------------------------------------------

ROOFTOP = "DEMO-ROOF-01"
CLEAR_DAY = date(2025, 6, 30)


@pytest.fixture
def roof() -> Plant:
    demo_seed()
    return Plant.objects.get(plant_code=ROOFTOP)


def test_the_simulated_stuck_sensor_and_silent_inverter_show_in_quality(roof, customer, plant_admin):
    zone = ZoneInfo(roof.timezone)
    start = datetime.combine(CLEAR_DAY, time(), tzinfo=zone)
    # up to local noon: the module-temperature sensor is stuck since 09:00 when the range ends
    result = telemetry_simulate(
        plant=roof, start=start, end=datetime.combine(CLEAR_DAY, time(12), tzinfo=zone), faults=True, fold=False
    )
    outage = next(fault for fault in result.faults if fault.startswith("outage"))
    tripped = next(
        device
        for device in Device.objects.filter(plant=roof, type=DeviceType.INVERTER)
        if device.serial_number in outage
    )
    (station,) = Device.objects.filter(plant=roof, type=DeviceType.WEATHER_STATION)
    client = api_client_for(plant_admin)
    items = client.get(f"/api/monitoring/devices?plantId={roof.id}&pageSize=500").json()["items"]
    flagged = {item["serialNumber"]: item["quality"]["flatlinedMetrics"] for item in items if item["flatlined"]}
    assert flagged == {station.serial_number: ["module_temp"]}
    assert LatestValue.objects.get(device=station, metric__key="module_temp").repeats == 36  # 09:00-11:55

    def local(hour: int, minute: int = 0) -> str:
        return iso(datetime.combine(CLEAR_DAY, time(hour, minute), tzinfo=zone).astimezone(UTC))

    window = f"startTime={local(8)}&endTime={local(12)}"
    for _fold in (False, True):
        module = client.get(f"/api/devices/{station.id}/timeseries?metric=module_temp&{window}&resolution=hour").json()
        assert module["quality"]["flatlined"] == [local(9), local(10), local(11)]
        power = client.get(f"/api/devices/{tripped.id}/timeseries?metric=ac_power&{window}&resolution=hour").json()
        # silent from 11:15: three of the hour's twelve 5-minute slots have data
        assert [p["completeness"] for p in power["data"]] == [1, 1, 1, 0.25]
        plant = client.get(f"/api/plants/{roof.id}/timeseries?metric=ac_power&{window}&resolution=5min").json()
        inverters = Device.objects.filter(plant=roof, type=DeviceType.INVERTER).count()
        reporting = {p["timestamp"]: p["devicesReporting"] for p in plant["data"]}
        assert reporting[local(11, 10)] == inverters and reporting[local(11, 15)] == inverters - 1
        assert plant["quality"]["devicesExpected"] == inverters
        rollups_fold()


def test_store_rows_keeps_runs_for_direct_writers(station):
    t = datetime(2026, 6, 1, tzinfo=UTC)
    from telemetry.ingest import metric_catalog

    metric = metric_catalog()["irradiance_poa"].id
    assert store_rows([(station.id, metric, t + n * M5, 700.0) for n in range(5)]) == 5
    assert store_rows([(station.id, metric, t + (5 + n) * M5, 700.0) for n in range(7)]) == 7
    assert store_rows([(station.id, metric, t + n * M5, 700.0) for n in range(12)]) == 0  # all duplicates
    latest = LatestValue.objects.get(device=station, metric_id=metric)
    assert (latest.repeats, latest.repeat_since, latest.ts) == (12, t, t + 11 * M5)


def test_one_batch_over_many_devices_continues_only_the_runs_it_does_not_break(own_plant):
    """The upsert merges each (device, metric)'s run with the stored one on its own: a batch
    that breaks one device's run (a different value inside it) does not break the others', one
    reading per key (a poll) continues them, and rows not newer than the stored latest value
    (a backfill, a replay) leave it untouched."""
    from telemetry.ingest import metric_catalog

    a, b, c = (
        Device.objects.create(plant=own_plant, type=DeviceType.WEATHER_STATION, name=n, serial_number=n)
        for n in ("WS-A", "WS-B", "WS-C")
    )
    metric = metric_catalog()["irradiance_poa"].id
    t = datetime(2026, 6, 1, tzinfo=UTC)

    def run(device):
        latest = LatestValue.objects.get(device=device, metric_id=metric)
        return latest.value, latest.repeats, latest.repeat_since, latest.ts

    assert store_rows([(d.id, metric, t + n * M5, 700.0) for d in (a, b, c) for n in range(2)]) == 6
    batch = [(a.id, metric, t + 2 * M5, 700.0), (a.id, metric, t + 3 * M5, 700.0)]  # a: the run goes on
    batch += [(b.id, metric, t + 2 * M5, 650.0), (b.id, metric, t + 3 * M5, 700.0)]  # b: broken inside the batch
    batch += [(c.id, metric, t + 2 * M5, 710.0)]  # c: moved
    assert store_rows(batch) == 5
    assert run(a) == (700.0, 4, t, t + 3 * M5)
    assert run(b) == (700.0, 1, t + 3 * M5, t + 3 * M5)
    assert run(c) == (710.0, 1, t + 2 * M5, t + 2 * M5)

    poll = [(a.id, metric, t + 4 * M5, 700.0), (b.id, metric, t + 4 * M5, 700.0), (c.id, metric, t + 4 * M5, 720.0)]
    assert store_rows(list(poll)) == 3  # one reading per key
    assert run(a) == (700.0, 5, t, t + 4 * M5)
    assert run(b) == (700.0, 2, t + 3 * M5, t + 4 * M5)
    assert run(c) == (720.0, 1, t + 4 * M5, t + 4 * M5)

    before = [run(d) for d in (a, b, c)]
    assert store_rows(list(poll)) == 0  # a replay
    late = [(a.id, metric, t + 3 * M5 + M5 / 2, 1.0), (c.id, metric, t + 4 * M5 - M5 / 2, 2.0)]
    assert store_rows(late) == 2  # stored, but older than the latest values
    assert [run(d) for d in (a, b, c)] == before
