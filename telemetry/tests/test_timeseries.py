"""Time-series endpoints: seed-001 shapes, groups as PV1..PVn, gaps as null, the real-time tail
(answers before folding equal answers after), the 5,000-point cap, CSV, plant aggregates,
404 for invisible devices and plants, and pinned query counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from plants.choices import DeviceType
from plants.models import Device
from solarhub.testing.personas import api_client_for
from telemetry.ingest import telemetry_ingest
from telemetry.rollups import rollups_fold
from telemetry.selectors import metric_info

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 6, 1, tzinfo=UTC)
M = timedelta(minutes=1)
WINDOW = "startTime=2026-06-01T10:00:00Z&endTime=2026-06-01T10:30:00Z"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def inverter(own_plant):
    return Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inv 1", serial_number="INV-1")


@pytest.fixture
def client(customer):
    return api_client_for(customer)


def ingest(device, readings: list[tuple[datetime, dict]]) -> None:
    result = telemetry_ingest(
        plant_ids=[device.plant_id],
        readings=[{"deviceId": device.id, "timestamp": iso(ts), "metrics": metrics} for ts, metrics in readings],
    )
    assert result.rejected == 0, result.errors


def series(client, device, query: str) -> dict:
    response = client.get(f"/api/devices/{device.id}/timeseries?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_device_series_shape_groups_pv1_to_pvn_and_gaps_as_null(client, inverter):
    t0 = DAY + timedelta(hours=10)
    ingest(
        inverter,
        [(t0 + n * M, {"pv1_voltage": 300.0 + n, "pv2_voltage": 310.0, "pv4_voltage": 320.0}) for n in range(5)],
    )
    ingest(inverter, [(t0 + 10 * M + n * M, {"pv1_voltage": 400.0, "pv2_voltage": 410.0}) for n in range(10)])
    body = series(client, inverter, f"metric=panel_voltages&{WINDOW}&resolution=5min")
    assert set(body) == {"deviceId", "metric", "timeRange", "resolution", "unit", "timezone", "quality", "data"}
    assert (body["deviceId"], body["metric"], body["timeRange"]) == (inverter.id, "panel_voltages", "custom")
    assert (body["resolution"], body["unit"], body["timezone"]) == ("5min", "V", "America/Los_Angeles")
    assert [point["timestamp"] for point in body["data"]] == [iso(t0 + n * 5 * M) for n in range(6)]
    assert all(set(point) == {"timestamp", "PV1", "PV2", "PV3", "PV4", "completeness"} for point in body["data"])
    first, gap, third = body["data"][:3]
    # PV3 is never reported: 3 of the 4 columns have the bucket's one 5-minute slot
    assert first == {"timestamp": iso(t0), "PV1": 302.0, "PV2": 310.0, "PV3": None, "PV4": 320.0, "completeness": 0.75}
    assert gap == {"timestamp": iso(t0 + 5 * M), "PV1": None, "PV2": None, "PV3": None, "PV4": None, "completeness": 0}
    assert body["quality"] == {"completeness": 0.292, "gaps": 3, "flatlined": []}  # (0.75 + 0.5 + 0.5) / 6
    assert third["PV1"] == 400.0 and third["PV4"] is None
    assert body["data"][4]["PV1"] is None  # 10:20-10:30 had no data: null, never invented


def test_single_metrics_use_value_and_status_words_their_last_reading(client, inverter):
    t0 = DAY + timedelta(hours=10)
    ingest(inverter, [(t0 + n * M, {"ac_power": float(n), "status_code": 4.0 + n % 2}) for n in range(5)])
    power = series(client, inverter, f"metric=power_generation&{WINDOW}&resolution=5min")
    assert power["unit"] == "kW" and power["data"][0] == {"timestamp": iso(t0), "value": 2.0, "completeness": 1}
    assert series(client, inverter, f"metric=ac_power&{WINDOW}&resolution=5min")["data"] == power["data"]
    status = series(client, inverter, f"metric=status_code&{WINDOW}&resolution=5min")
    assert status["data"][0]["value"] == 4.0  # last, not a meaningless average


def test_raw_resolution_returns_every_reading(client, inverter):
    t0 = DAY + timedelta(hours=10)
    ingest(inverter, [(t0 + n * 90 * timedelta(seconds=1), {"ac_power": float(n)}) for n in range(4)])
    body = series(client, inverter, f"metric=ac_power&{WINDOW}&resolution=raw")
    assert body["data"] == [{"timestamp": iso(t0 + n * timedelta(seconds=90)), "value": float(n)} for n in range(4)]


def _fleet(device, start: datetime, hours: int) -> list[tuple[datetime, dict]]:
    readings = []
    for n in range(hours * 12):
        ts = start + n * 5 * M + timedelta(seconds=17)
        metrics = {
            "ac_power": 5.0 + (n % 7),
            "irradiance_poa": 100.0 + n % 50,
            "pv1_voltage": 300.0,
            "pv2_voltage": 301.0,
        }
        if n % 3 == 0:
            metrics["energy_total"] = 1000.0 + n * 0.4
        readings.append((ts, metrics))
    return readings


@pytest.mark.parametrize("resolution", ["5min", "hour", "day"])
def test_answers_before_folding_equal_answers_after(client, inverter, resolution):
    start = DAY + timedelta(hours=3)
    ingest(inverter, _fleet(inverter, start, 30))
    rollups_fold()
    late = start + timedelta(hours=30)
    ingest(inverter, [*_fleet(inverter, late, 3), (start + timedelta(hours=5, minutes=2), {"energy_total": 1020.0})])
    window = f"startTime={iso(DAY)}&endTime={iso(DAY + timedelta(days=3))}&resolution={resolution}"
    metrics = ("power_generation", "energy_produced", "irradiance_poa", "energy_total")
    before = {metric: series(client, inverter, f"metric={metric}&{window}")["data"] for metric in metrics}
    assert rollups_fold() > 0
    after = {metric: series(client, inverter, f"metric={metric}&{window}")["data"] for metric in metrics}
    for metric in metrics:
        assert [p["timestamp"] for p in before[metric]] == [p["timestamp"] for p in after[metric]]
        assert [p["value"] for p in before[metric]] == pytest.approx([p["value"] for p in after[metric]]), metric
        assert any(p["value"] is not None for p in after[metric])


def test_daily_buckets_are_plant_local_midnights(client, inverter):
    ingest(inverter, [(DAY + timedelta(hours=h), {"ac_power": 1.0}) for h in range(0, 48, 2)])
    body = series(
        client, inverter, f"metric=ac_power&startTime={iso(DAY)}&endTime={iso(DAY + timedelta(days=2))}&resolution=day"
    )
    # Los Angeles is UTC-7 in June: 31 May, 1 June and 2 June local days intersect the range
    assert [p["timestamp"] for p in body["data"]] == [
        "2026-05-31T07:00:00Z",
        "2026-06-01T07:00:00Z",
        "2026-06-02T07:00:00Z",
    ]


def test_more_than_5000_points_is_refused_with_the_limit(client, inverter):
    response = client.get(
        f"/api/devices/{inverter.id}/timeseries?metric=ac_power&startTime=2026-01-01T00:00:00Z"
        "&endTime=2026-01-31T00:00:00Z&resolution=5min"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "TOO_MANY_POINTS" and "5000" in body["detail"]
    raw = client.get(f"/api/devices/{inverter.id}/timeseries?metric=ac_power&timeRange=1y&resolution=hour")
    assert raw.status_code == 400 and raw.json()["error_code"] == "TOO_MANY_POINTS"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("metric=nonsense&timeRange=24h", "metric"),
        ("timeRange=24h", "metric"),
        ("metric=ac_power&timeRange=2h", "timeRange"),
        ("metric=ac_power&resolution=weekly", "resolution"),
        ("metric=ac_power&startTime=yesterday", "startTime"),
        ("metric=ac_power&startTime=2026-13-45T00:00:00Z", "startTime"),
        ("metric=ac_power&endTime=2026-01-01T00:00:00%00Z", "endTime"),
        ("metric=ac_power&startTime=2026-06-02T00:00:00Z&endTime=2026-06-01T00:00:00Z", "startTime"),
        ("metric=pv1_voltage&startTime=2026-06-01T00:00:00Z&endTime=2026-06-01T00:00:00Z", "startTime"),
        ("metric=ac_power&startTime=0001-01-01T00:00:00Z", "startTime"),
        ("metric=ac_power&endTime=9999-12-31T23:59:59Z", "endTime"),
        ("metric=energy_produced&timeRange=1h&resolution=raw", "resolution"),
    ],
)
def test_bad_queries_are_400_with_the_field(client, inverter, query, field):
    response = client.get(f"/api/devices/{inverter.id}/timeseries?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR" and field in body["errors"]


def test_offsets_are_accepted_even_with_an_unencoded_plus(client, inverter):
    ingest(inverter, [(DAY + timedelta(hours=10), {"ac_power": 7.0})])
    body = series(
        client, inverter, "metric=ac_power&startTime=2026-06-01T12:00:00+02:00&endTime=2026-06-01T12:05:00+02:00"
    )
    assert body["resolution"] == "raw" and body["data"] == [{"timestamp": "2026-06-01T10:00:00Z", "value": 7.0}]


def test_invisible_devices_and_plants_are_404(outsider, inverter, own_plant):
    client = api_client_for(outsider)
    for path in (
        f"/api/devices/{inverter.id}/timeseries?metric=ac_power",
        f"/api/plants/{own_plant.id}/timeseries?metric=ac_power",
        "/api/devices/999999/timeseries?metric=ac_power",
    ):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
    batch = client.post(f"/api/devices/{inverter.id}/timeseries/batch", {"metrics": ["ac_power"]}, format="json")
    assert batch.status_code == 404


def test_csv_download_has_the_same_data(client, inverter):
    t0 = DAY + timedelta(hours=10)
    ingest(inverter, [(t0 + n * M, {"pv1_voltage": 300.0, "pv2_voltage": 301.0}) for n in range(5)])
    query = f"metric=panel_voltages&{WINDOW}&resolution=5min"
    response = client.get(f"/api/devices/{inverter.id}/timeseries?{query}&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["timestamp", "PV1", "PV2"]
    assert rows[1] == [iso(t0), "300.0", "301.0"] and rows[2] == [iso(t0 + 5 * M), "", ""]
    assert len(rows) == 1 + len(series(client, inverter, query)["data"])
    bad = client.get(f"/api/devices/{inverter.id}/timeseries?metric=nope&format=csv")
    assert bad.status_code == 400 and bad.json()["error_code"] == "VALIDATION_ERROR"


def test_batch_returns_one_series_per_metric(client, inverter):
    ingest(inverter, [(timezone.now() - 10 * M, {"ac_power": 4.0, "pv1_voltage": 350.0})])
    response = client.post(
        f"/api/devices/{inverter.id}/timeseries/batch",
        {"metrics": ["panel_voltages", "input_currents", "power_generation"], "timeRange": "24h"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["metric"] for s in body] == ["panel_voltages", "input_currents", "power_generation"]
    assert all(s["deviceId"] == inverter.id and s["timeRange"] == "24h" and s["resolution"] == "5min" for s in body)
    assert any(p.get("PV1") == 350.0 for p in body[0]["data"])
    # no input currents reported: no columns, nothing complete
    assert all(p == {"timestamp": p["timestamp"], "completeness": 0} for p in body[1]["data"])
    assert any(p["value"] == 4.0 for p in body[2]["data"])
    too_many = client.post(
        f"/api/devices/{inverter.id}/timeseries/batch", {"metrics": ["ac_power"] * 11}, format="json"
    )
    assert too_many.status_code == 400


def test_plant_series_sums_power_and_averages_irradiance(client, inverter, own_plant):
    second = Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inv 2", serial_number="INV-2")
    t0 = DAY + timedelta(hours=10)
    ingest(inverter, [(t0 + n * M, {"ac_power": 3.0, "irradiance_poa": 400.0}) for n in range(10)])
    ingest(second, [(t0 + n * M, {"ac_power": 5.0, "irradiance_poa": 600.0}) for n in range(5)])
    for fold in (False, True):
        if fold:
            rollups_fold()
        power = client.get(f"/api/plants/{own_plant.id}/timeseries?metric=ac_power&{WINDOW}").json()
        assert set(power) == {"plantId", "metric", "timeRange", "resolution", "unit", "timezone", "quality", "data"}
        assert power["resolution"] == "5min"  # plants never go raw
        assert [p["value"] for p in power["data"][:3]] == [8.0, 3.0, None]
        # both inverters reported 10:00-10:05, one of the two 10:05-10:10, none after
        assert [(p["devicesReporting"], p["completeness"]) for p in power["data"][:3]] == [(2, 1), (1, 0.5), (0, 0)]
        assert power["quality"] == {"completeness": 0.25, "gaps": 4, "flatlined": [], "devicesExpected": 2}
        irradiance = client.get(f"/api/plants/{own_plant.id}/timeseries?metric=irradiance_poa&{WINDOW}").json()
        assert [p["value"] for p in irradiance["data"][:2]] == [500.0, 400.0]
    download = client.get(f"/api/plants/{own_plant.id}/timeseries?metric=ac_power&{WINDOW}&format=csv")
    assert download.status_code == 200 and download.content.decode().splitlines()[:2] == [
        "timestamp,value",
        f"{iso(t0)},8.0",
    ]
    raw = client.get(f"/api/plants/{own_plant.id}/timeseries?metric=ac_power&{WINDOW}&resolution=raw")
    assert raw.status_code == 400


@pytest.mark.parametrize(
    ("time_range", "resolution"),
    [("1h", "raw"), ("24h", "5min"), ("7d", "hour"), ("30d", "hour"), ("90d", "hour"), ("1y", "day")],
)
def test_resolution_follows_the_time_range(client, inverter, time_range, resolution):
    ingest(inverter, [(timezone.now() - 20 * M, {"ac_power": 2.0})])
    body = series(client, inverter, f"metric=ac_power&timeRange={time_range}")
    assert body["resolution"] == resolution and body["timeRange"] == time_range
    assert 0 < len(body["data"]) <= 5000
    assert any(p["value"] == 2.0 for p in body["data"])


def test_energy_is_never_raw(client, inverter):
    ingest(inverter, [(timezone.now() - n * M, {"ac_power": 6.0}) for n in range(1, 20)])
    body = series(client, inverter, "metric=energy_produced&timeRange=1h")
    assert body["resolution"] == "5min" and body["unit"] == "kWh"
    assert sum(p["value"] or 0 for p in body["data"]) == pytest.approx(6.0 * 18 / 60)


def _count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_points_or_devices(client, inverter, own_plant, django_assert_max_num_queries):
    start = DAY + timedelta(hours=6)
    ingest(inverter, _fleet(inverter, start, 10))
    rollups_fold()
    ingest(inverter, _fleet(inverter, start + timedelta(hours=10), 1))  # an unfolded tail as well
    metric_info(refresh=True)  # the per-process catalog cache is warm in a running server
    device_path = f"/api/devices/{inverter.id}/timeseries"
    tail = start + timedelta(hours=10)
    few = _count_queries(
        client,
        f"{device_path}?metric=energy_produced&startTime={iso(tail)}&endTime={iso(tail + 60 * M)}&resolution=5min",
    )
    two_days = f"startTime={iso(DAY)}&endTime={iso(DAY + timedelta(days=2))}"
    many = _count_queries(client, f"{device_path}?metric=energy_produced&{two_days}&resolution=5min")
    assert few == many  # 12 points or 576, the same queries
    ten_days = f"startTime={iso(DAY)}&endTime={iso(DAY + timedelta(days=10))}"
    # user, device, dirty hours + stored rollups (one statement on PostgreSQL, two on SQLite), and
    # for the unfolded tail: the raw 5-minute aggregates, or for energy its samples + counter
    # reference (one statement on PostgreSQL, two on SQLite) and the next counter reading; a
    # daily series reads the tail day's parts; panel_voltages finds its PVn columns first.
    extra = 0 if connection.vendor == "postgresql" else 1
    pins = {
        "energy_produced&resolution=hour": 5 + extra,
        "energy_produced&resolution=day": 6 + extra,
        "panel_voltages&resolution=hour": 5 + extra,
    }
    for query, pin in pins.items():
        metric, resolution = query.split("&")
        with django_assert_max_num_queries(pin + (extra if metric == "energy_produced" else 0)):
            assert client.get(f"{device_path}?metric={metric}&{ten_days}&{resolution}").status_code == 200

    plant = f"/api/plants/{own_plant.id}/timeseries?metric=ac_power&{ten_days}&resolution=hour"
    one = _count_queries(client, plant)
    for n in range(5):
        device = Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name=f"X{n}", serial_number=f"X{n}")
        ingest(device, _fleet(device, start, 2))
    assert _count_queries(client, plant) == one
    # user, plant, its devices, dirty hours + rollups (two statements on SQLite), tail aggregates
    with django_assert_max_num_queries(5 + extra):
        assert client.get(plant).status_code == 200
