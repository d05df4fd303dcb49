"""Device events (seed 004): the REST ingest door and ``GET /api/devices/{id}/events``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from plants.choices import DeviceType
from plants.models import Device
from solarhub.testing.personas import api_client_for
from telemetry.events import MAX_EVENTS
from telemetry.models import DeviceEvent, Reading

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


def event(device, minutes=0, **extra):
    return {
        "deviceId": device.id,
        "timestamp": iso(T0 + timedelta(minutes=minutes)),
        "eventType": "fault",
        "code": "GROUND_FAULT",
        "message": "Insulation resistance low",
        "severity": "critical",
        **extra,
    }


def post(client, body, **kwargs):
    return client.post("/api/telemetry/ingest", body, format="json", **kwargs)


def test_events_and_readings_in_one_body_are_stored_and_replays_change_nothing(installer, inverter):
    body = {
        "readings": [{"deviceId": inverter.id, "timestamp": iso(T0), "metrics": {"ac_power": 3.0}}],
        "events": [event(inverter), event(inverter, code="RESTART", severity=1), event(inverter, minutes=5)],
    }
    first = post(api_client_for(installer), body)
    assert first.status_code == 200, first.content
    assert first.json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
        "events": {"accepted": 3, "duplicates": 0, "rejected": 0, "errors": []},
    }
    again = post(api_client_for(installer), body).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert again["events"] == {"accepted": 0, "duplicates": 3, "rejected": 0, "errors": []}
    stored = DeviceEvent.objects.filter(device=inverter).order_by("ts", "code")
    assert [(e.ts, e.event_type, e.code, e.severity) for e in stored] == [
        (T0, "fault", "GROUND_FAULT", "critical"),
        (T0, "fault", "RESTART", "info"),  # seed 004's integer severity 1 = info
        (T0 + timedelta(minutes=5), "fault", "GROUND_FAULT", "critical"),
    ]
    assert stored[0].message == "Insulation resistance low"


def test_bad_events_are_rejected_with_reasons_and_good_ones_kept(installer, inverter, foreign_inverter):
    future = datetime.now(UTC) + timedelta(days=1)
    body = {
        "events": [
            event(inverter),
            event(foreign_inverter),  # another plant's device does not exist for you
            {**event(inverter), "eventType": ""},
            {**event(inverter), "eventType": None},
            event(inverter, timestamp="2026-06-01T10:00:00"),
            event(inverter, timestamp=iso(future)),
            event(inverter, severity="apocalyptic"),
            event(inverter, severity=9),
            event(inverter, message="nul \x00 inside"),
            event(inverter, code="x" * 65),
            event(inverter, message=["not", "text"]),
            "not an object",
            {"serialNumber": "INV-1", "timestamp": iso(T0), "eventType": "warning", "code": 17},
            # the same key twice in one batch: stored once
            {"serialNumber": "INV-1", "timestamp": iso(T0), "eventType": "warning", "code": "17"},
        ]
    }
    response = post(api_client_for(installer), body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (0, 0)  # no readings sent
    events = result["events"]
    assert (events["accepted"], events["duplicates"], events["rejected"]) == (2, 1, 11)
    reasons = {(e["index"], e["field"]): e["message"] for e in events["errors"]}
    assert reasons[(1, "deviceId")] == "unknown device"
    assert reasons[(2, "eventType")] == reasons[(3, "eventType")] == "eventType is required"
    assert "UTC offset" in reasons[(4, "timestamp")]
    assert reasons[(5, "timestamp")] == "timestamp is in the future"
    assert "severity must be one of" in reasons[(6, "severity")] and (7, "severity") in reasons
    assert "NUL" in reasons[(8, "message")]
    assert "at most 64" in reasons[(9, "code")]
    assert reasons[(10, "message")] == "message must be a string"
    assert reasons[(11, "")] == "each event must be an object"
    assert DeviceEvent.objects.count() == 2 and not DeviceEvent.objects.filter(device=foreign_inverter).exists()
    assert DeviceEvent.objects.get(code="17").severity == "info"


def test_only_bad_events_is_a_400_and_nothing_is_stored(installer, inverter):
    response = post(api_client_for(installer), {"events": [event(inverter, timestamp="never")]})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "NOTHING_STORED" and body["events"]["errors"][0]["field"] == "timestamp"
    assert not DeviceEvent.objects.exists()


@pytest.mark.parametrize("body", [{"events": "x"}, {"events": {"a": 1}}, {"readings": [], "events": 3}])
def test_malformed_event_lists_are_400(installer, body):
    response = post(api_client_for(installer), body)
    assert response.status_code == 400 and response.json()["error_code"]


def test_more_events_than_the_limit_is_413(installer, inverter):
    response = post(api_client_for(installer), {"events": [event(inverter)] * (MAX_EVENTS + 1)})
    assert response.status_code == 413 and response.json()["error_code"] == "PAYLOAD_TOO_LARGE"
    assert not DeviceEvent.objects.exists()


def test_an_ingest_key_writes_events_of_its_own_plant_only(customer, inverter, foreign_inverter, own_plant):
    created = api_client_for(customer).post(f"/api/plants/{own_plant.id}/ingest-keys", {"name": "L"}, format="json")
    key = created.json()["key"]
    from rest_framework.test import APIClient

    logger = APIClient()
    ok = post(logger, {"events": [event(inverter)]}, HTTP_X_API_KEY=key)
    assert ok.status_code == 200 and ok.json()["events"]["accepted"] == 1
    refused = post(logger, {"events": [event(foreign_inverter)]}, HTTP_X_API_KEY=key)
    assert refused.status_code == 400 and not DeviceEvent.objects.filter(device=foreign_inverter).exists()


@pytest.mark.django_db(transaction=True)
def test_three_concurrent_posts_of_one_event_batch_store_each_event_once(installer, inverter):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency of ON CONFLICT is a PostgreSQL property")
    body = {"events": [event(inverter, minutes=i) for i in range(100)]}
    results, barrier = [], threading.Barrier(3)

    def send():
        from django.db import connections

        try:
            barrier.wait()
            results.append(post(api_client_for(installer), body))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r.status_code for r in results] == [200, 200, 200]
    assert sum(r.json()["events"]["accepted"] for r in results) == 100
    assert sum(r.json()["events"]["duplicates"] for r in results) == 200
    assert DeviceEvent.objects.count() == 100
    Reading.objects.all().delete()


# -- reading events ------------------------------------------------------------------------------


@pytest.fixture
def stored_events(installer, inverter, foreign_inverter, other_plant):
    events = [
        event(inverter, minutes=0, severity="info", code="A"),
        event(inverter, minutes=10, severity="major", code="B"),
        event(inverter, minutes=20, severity="critical", code="C"),
        event(inverter, minutes=30, severity="minor", code="D"),
    ]
    assert post(api_client_for(installer), {"events": events}).json()["events"]["accepted"] == 4
    DeviceEvent.objects.create(device=foreign_inverter, ts=T0, event_type="fault", code="X")
    return events


def test_events_list_newest_first_filtered_and_paginated(customer, inverter, stored_events):
    client = api_client_for(customer)
    url = f"/api/devices/{inverter.id}/events"
    everything = client.get(url)
    assert everything.status_code == 200
    assert [e["code"] for e in everything.json()] == ["D", "C", "B", "A"]
    first = everything.json()[0]
    assert first["timestamp"] == iso(T0 + timedelta(minutes=30)) and first["eventType"] == "fault"
    assert first["deviceId"] == inverter.id and first["severity"] == "minor"
    window = client.get(url, {"since": iso(T0 + timedelta(minutes=10)), "until": iso(T0 + timedelta(minutes=30))})
    assert [e["code"] for e in window.json()] == ["C", "B"]
    severe = client.get(url, {"severity": "major,critical"})
    assert [e["code"] for e in severe.json()] == ["C", "B"]
    page = client.get(url, {"pageSize": 3, "page": 2})
    assert [e["code"] for e in page.json()] == ["A"] and page["X-Total-Count"] == "4"
    first_page = client.get(url, {"pageSize": 3})
    assert len(first_page.json()) == 3 and 'rel="next"' in first_page["Link"]


@pytest.mark.parametrize(
    "query",
    [
        {"severity": "apocalyptic"},
        {"since": "yesterday"},
        {"since": "2026-06-02T00:00:00Z", "until": "2026-06-01T00:00:00Z"},
        {"since": "2026-06-01T00:00:00\x00Z"},
        {"pageSize": 100000},
    ],
)
def test_bad_event_queries_are_400(customer, inverter, query):
    response = api_client_for(customer).get(f"/api/devices/{inverter.id}/events", query)
    assert response.status_code == 400 and response.json()["error_code"]


def test_events_of_an_invisible_device_are_404(outsider, customer, inverter, foreign_inverter, stored_events):
    assert api_client_for(outsider).get(f"/api/devices/{inverter.id}/events").status_code == 404
    assert api_client_for(customer).get(f"/api/devices/{foreign_inverter.id}/events").status_code == 404
    assert api_client_for(customer).get("/api/devices/999999/events").status_code == 404


def test_events_list_query_count_is_pinned(customer, inverter, stored_events, django_assert_max_num_queries):
    client = api_client_for(customer)
    client.get(f"/api/devices/{inverter.id}/events")  # warm the catalog / auth caches
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/devices/{inverter.id}/events").status_code == 200
