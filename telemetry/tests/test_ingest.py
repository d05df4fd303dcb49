"""The REST ingest door and the ingest service behind every door."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from plants.choices import DeviceType, PlantRole
from plants.models import Device, PlantMembership
from solarhub.testing.personas import api_client_for
from telemetry.models import DirtyHour, IngestKey, LatestValue, Metric, Reading

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def inverter(own_plant):
    return Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inv 1", serial_number="INV-1")


@pytest.fixture
def foreign_inverter(other_plant):
    return Device.objects.create(plant=other_plant, type=DeviceType.INVERTER, name="Inv X", serial_number="INV-X")


def batch(device, n=3, start=T0, **extra):
    return {
        "readings": [
            {
                "deviceId": device.id,
                "timestamp": iso(start + timedelta(minutes=5 * i)),
                "metrics": {"ac_power": 10.0 + i, "dc_power": 10.5 + i, **extra},
            }
            for i in range(n)
        ]
    }


def post(client, body, **kwargs):
    return client.post("/api/telemetry/ingest", body, format="json", **kwargs)


def test_ingest_stores_readings_latest_values_and_dirty_hours(installer, inverter):
    response = post(api_client_for(installer), batch(inverter, n=3))
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 6, "duplicates": 0, "rejected": 0, "errors": []}
    assert Reading.objects.filter(device_id=inverter.id).count() == 6
    latest = LatestValue.objects.get(device=inverter, metric__key="ac_power")
    assert latest.value == 12.0 and latest.ts == T0 + timedelta(minutes=10)
    assert list(DirtyHour.objects.filter(device=inverter).values_list("hour", flat=True)) == [T0]


def test_replays_change_nothing(installer, inverter):
    client = api_client_for(installer)
    assert post(client, batch(inverter)).json()["accepted"] == 6
    again = post(client, batch(inverter)).json()
    assert (again["accepted"], again["duplicates"]) == (0, 6)
    assert Reading.objects.count() == 6


def test_an_older_reading_does_not_overwrite_the_latest_value(installer, inverter):
    client = api_client_for(installer)
    post(client, batch(inverter, n=1, start=T0 + timedelta(hours=1)))
    post(client, batch(inverter, n=1, start=T0))
    assert LatestValue.objects.get(device=inverter, metric__key="ac_power").ts == T0 + timedelta(hours=1)


def test_bad_values_are_rejected_with_reasons_and_good_ones_kept(installer, inverter, foreign_inverter):
    future = datetime.now(UTC) + timedelta(days=2)
    body = {
        "readings": [
            {
                "deviceId": inverter.id,
                "timestamp": iso(T0),
                "metrics": {"ac_power": 5, "warp_drive": 1, "frequency": 99},
            },
            {"deviceId": foreign_inverter.id, "timestamp": iso(T0), "metrics": {"ac_power": 5}},
            {"serialNumber": "NOPE", "timestamp": iso(T0), "metrics": {"ac_power": 5}},
            {"deviceId": inverter.id, "timestamp": iso(future), "metrics": {"ac_power": 5}},
            {"deviceId": inverter.id, "timestamp": "2026-06-01T10:00:00", "metrics": {"ac_power": 5}},
            {"deviceId": inverter.id, "timestamp": "yesterday", "metrics": {"ac_power": 5}},
            {"deviceId": inverter.id, "timestamp": iso(T0), "metrics": {"dc_power": "NaN", "internal_temp": True}},
            {"serialNumber": "INV-1", "timestamp": iso(T0 + timedelta(minutes=5)), "metrics": {"ac_power": 6}},
            "not an object",
        ]
    }
    response = post(api_client_for(installer), body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["accepted"] == 2
    assert result["rejected"] == 10
    reasons = {(e["index"], e["field"]): e["message"] for e in result["errors"]}
    assert reasons[(0, "metrics.warp_drive")] == "unknown metric"
    assert "outside the valid range" in reasons[(0, "metrics.frequency")]
    assert reasons[(1, "deviceId")] == "unknown device"  # another plant's device does not exist for you
    assert reasons[(2, "deviceId")] == "unknown device"
    assert reasons[(3, "timestamp")] == "timestamp is in the future"
    assert "UTC offset" in reasons[(4, "timestamp")]
    assert "ISO 8601" in reasons[(5, "timestamp")]
    assert reasons[(6, "metrics.dc_power")] == "value must be a number"
    assert reasons[(6, "metrics.internal_temp")] == "value must be a number"
    assert Reading.objects.filter(device_id=foreign_inverter.id).count() == 0
    assert Reading.objects.count() == 2


def test_nothing_stored_is_a_400_with_the_reasons(installer, inverter):
    body = {"readings": [{"deviceId": inverter.id, "timestamp": "never", "metrics": {"ac_power": 1}}]}
    response = post(api_client_for(installer), body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "NOTHING_STORED" and response.json()["errors"]


@pytest.mark.parametrize("body", [{"readings": "x"}, {"rows": []}, [], "garbage"])
def test_malformed_bodies_are_400(installer, body):
    assert post(api_client_for(installer), body).status_code == 400


def test_more_than_10000_readings_is_413(installer, inverter):
    body = {"readings": [{"deviceId": inverter.id, "timestamp": iso(T0), "metrics": {}}] * 10_001}
    response = post(api_client_for(installer), body)
    assert response.status_code == 413 and response.json()["error_code"] == "PAYLOAD_TOO_LARGE"
    assert not Reading.objects.exists()


def test_body_over_10mb_is_413_before_parsing(installer):
    response = api_client_for(installer).generic(
        "POST", "/api/telemetry/ingest", b"{" + b" " * (10 * 1024 * 1024 + 10) + b"}", content_type="application/json"
    )
    assert response.status_code == 413


def test_csv_wide_and_long(installer, inverter):
    client = api_client_for(installer)
    wide = (
        "timestamp,serialNumber,ac_power,dc_power\n"
        "2026-06-01T10:00:00Z,INV-1,1.5,1.6\n"
        "2026-06-01T10:05:00Z,INV-1,nan,1.7\n"
    )
    result = client.post("/api/telemetry/ingest", wide, content_type="text/csv").json()
    assert (result["accepted"], result["rejected"]) == (3, 1)
    assert "finite" in result["errors"][0]["message"]
    long = (
        "timestamp,deviceId,metric,value\n"
        f"2026-06-01T11:00:00Z,{inverter.id},ac_power,2\n"
        f"2026-06-01T11:00:00Z,{inverter.id},frequency,50.01\n"
    )
    result = client.post("/api/telemetry/ingest", long, content_type="text/csv").json()
    assert result["accepted"] == 2
    assert Reading.objects.filter(metric__key="frequency").get().value == pytest.approx(50.01)


def test_who_may_ingest(customer, installer, outsider, own_plant, inverter):
    assert post(api_client_for(customer), batch(inverter, n=1)).json()["accepted"] == 2  # the owner pushes data
    viewer_only = outsider
    PlantMembership.objects.create(user=viewer_only, plant=own_plant, role=PlantRole.VIEWER)
    refused = post(api_client_for(viewer_only), batch(inverter, n=1, start=T0 + timedelta(hours=1)))
    assert refused.status_code == 400 and refused.json()["errors"][0]["message"] == "unknown device"
    assert post(APIClient(), batch(inverter)).status_code == 401
    explicit = post(api_client_for(viewer_only), {**batch(inverter, n=1), "plantId": own_plant.id})
    assert explicit.status_code == 403


def test_ingest_keys_are_shown_once_scoped_to_their_plant_and_revocable(
    customer, inverter, foreign_inverter, own_plant
):
    client = api_client_for(customer)
    created = client.post(f"/api/plants/{own_plant.id}/ingest-keys", {"name": "Logger 1"}, format="json")
    assert created.status_code == 201, created.content
    key = created.json()["key"]
    assert key.startswith("shk_") and key not in IngestKey.objects.get().key_hash
    listed = client.get(f"/api/plants/{own_plant.id}/ingest-keys").json()
    assert "key" not in listed[0] and listed[0]["active"] is True

    logger = APIClient()
    ok = post(logger, batch(inverter, n=1), HTTP_X_API_KEY=key)
    assert ok.status_code == 200 and ok.json()["accepted"] == 2
    foreign = post(logger, batch(foreign_inverter, n=1), HTTP_X_API_KEY=key)  # a key of plant A cannot write to B
    assert foreign.status_code == 400 and Reading.objects.filter(device_id=foreign_inverter.id).count() == 0
    assert (
        post(logger, {**batch(inverter), "plantId": foreign_inverter.plant_id}, HTTP_X_API_KEY=key).status_code == 403
    )

    key_id = listed[0]["id"]
    assert client.delete(f"/api/plants/{own_plant.id}/ingest-keys/{key_id}").status_code == 204
    revoked = post(logger, batch(inverter, n=1, start=T0 + timedelta(hours=2)), HTTP_X_API_KEY=key)
    assert revoked.status_code == 401 and revoked.json()["error_code"] == "INVALID_API_KEY"
    assert post(logger, batch(inverter), HTTP_X_API_KEY="shk_0000_forged").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_three_concurrent_posts_of_one_batch_store_each_value_once(installer, inverter):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency of ON CONFLICT is a PostgreSQL property")
    body = batch(inverter, n=200)
    statuses, results = [], []
    barrier = threading.Barrier(3)

    def send():
        from django.db import connections

        try:
            barrier.wait()
            response = post(api_client_for(installer), body)
            statuses.append(response.status_code)
            results.append(response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200, 200, 200]
    assert sum(r["accepted"] for r in results) == 400
    assert sum(r["duplicates"] for r in results) == 800
    assert Reading.objects.count() == 400


@pytest.mark.django_db(transaction=True)
def test_a_partial_replay_outside_any_transaction_stores_only_the_new_values(installer, inverter):
    """Outside a caller's transaction the COPY runs without a savepoint: a batch that overlaps
    stored rows rolls its own transaction back and is stored afresh by the idempotent path —
    the new values once, the rest counted as duplicates, latest values and dirty hours moved on."""
    from telemetry.ingest import telemetry_ingest

    assert not connection.in_atomic_block
    first = telemetry_ingest(plant_ids=[inverter.plant_id], readings=batch(inverter, n=3)["readings"])
    assert (first.accepted, first.duplicates) == (6, 0)
    overlap = batch(inverter, n=4, start=T0 + timedelta(minutes=10))["readings"]  # 10:10 stored, 10:15-10:25 new
    again = telemetry_ingest(plant_ids=[inverter.plant_id], readings=overlap)
    assert (again.accepted, again.duplicates, again.rejected) == (6, 2, 0)
    assert Reading.objects.filter(device=inverter).count() == 12
    latest = LatestValue.objects.get(device=inverter, metric__key="ac_power")
    assert (latest.ts, latest.value) == (T0 + timedelta(minutes=25), 13.0)
    assert DirtyHour.objects.filter(device=inverter).count() == 1
    replay = telemetry_ingest(plant_ids=[inverter.plant_id], readings=overlap)
    assert (replay.accepted, replay.duplicates) == (0, 8)
    assert LatestValue.objects.get(device=inverter, metric__key="ac_power").ts == T0 + timedelta(minutes=25)


def test_catalog_is_seeded_with_units_and_families():
    metrics = dict(Metric.objects.values_list("key", "unit"))
    assert metrics["ac_power"] == "kW" and metrics["energy_total"] == "kWh" and metrics["irradiance_poa"] == "W/m²"
    assert "pv64_voltage" in metrics and "string64_current" in metrics and "pv65_voltage" not in metrics
    assert Metric.objects.get(key="energy_total").kind == "counter"


def test_deleting_a_device_purges_its_readings(installer, inverter):
    post(api_client_for(installer), batch(inverter))
    assert api_client_for(installer).delete(f"/api/devices/{inverter.id}").status_code == 204
    assert not Reading.objects.exists() and not LatestValue.objects.exists()


def test_a_metric_with_one_open_bound_and_infinities_are_reported_not_500(installer, inverter):
    from telemetry.ingest import metric_catalog

    Metric.objects.create(key="tracker_angle", unit="°", kind="gauge", min_value=None, max_value=90)
    metric_catalog(refresh=True)
    try:
        # 1e400 is valid JSON and parses as infinity
        raw = (
            f'{{"readings": [{{"deviceId": {inverter.id}, "timestamp": "{iso(T0)}", '
            f'"metrics": {{"tracker_angle": 120, "ac_power": 1e400}}}}, {{"deviceId": {inverter.id}, '
            f'"timestamp": "{iso(T0 + timedelta(minutes=5))}", "metrics": {{"tracker_angle": -40}}}}]}}'
        )
        response = api_client_for(installer).generic(
            "POST", "/api/telemetry/ingest", raw.encode(), content_type="application/json"
        )
        assert response.status_code == 200, response.content
        result = response.json()
        reasons = {(e["index"], e["field"]): e["message"] for e in result["errors"]}
        assert reasons[(0, "metrics.tracker_angle")] == "value 120 outside the valid range [-inf, 90]"
        assert reasons[(0, "metrics.ac_power")] == "value must be finite (no NaN or infinity)"
        assert result["accepted"] == 1
    finally:
        Metric.objects.filter(key="tracker_angle").delete()
        metric_catalog(refresh=True)


def test_values_no_column_can_hold_are_rejected_alone_and_the_good_ones_stored(installer, inverter):
    """A huge integer, an epoch of 1e20, NUL or a lone surrogate in serialNumber, an id beyond
    64 bits: each answered 500 and dropped the whole batch. Now each is one rejected entry."""
    good = f'{{"deviceId": {inverter.id}, "timestamp": "{iso(T0)}", "metrics": {{"ac_power": 5}}}}'
    bad = [
        f'{{"deviceId": {inverter.id}, "timestamp": "{iso(T0)}", "metrics": {{"frequency": {10**400}}}}}',
        f'{{"deviceId": {inverter.id}, "timestamp": 1e20, "metrics": {{"ac_power": 5}}}}',
        f'{{"deviceId": {inverter.id}, "timestamp": {10**400}, "metrics": {{"ac_power": 5}}}}',
        f'{{"serialNumber": "INV\\u0000-1", "timestamp": "{iso(T0)}", "metrics": {{"ac_power": 5}}}}',
        f'{{"serialNumber": "INV-\\ud800", "timestamp": "{iso(T0)}", "metrics": {{"ac_power": 5}}}}',
        f'{{"deviceId": {10**30}, "timestamp": "{iso(T0)}", "metrics": {{"ac_power": 5}}}}',
        f'{{"deviceId": "{"9" * 25}", "timestamp": "{iso(T0)}", "metrics": {{"ac_power": 5}}}}',
    ]
    raw = '{"readings": [' + ", ".join([good, *bad]) + "]}"
    response = api_client_for(installer).post("/api/telemetry/ingest", data=raw, content_type="application/json")
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (1, len(bad)), result
    fields = {e["index"]: e["field"] for e in result["errors"]}
    assert fields == {
        1: "metrics.frequency", 2: "timestamp", 3: "timestamp", 4: "deviceId", 5: "deviceId", 6: "deviceId",
        7: "deviceId",
    }  # fmt: skip
    assert Reading.objects.filter(device=inverter).count() == 1
