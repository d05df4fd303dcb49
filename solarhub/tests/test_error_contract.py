"""The error contract holds for every method and every body: JSON ``{detail, status_code,
error_code}``, never Django's HTML pages, never a 500, never a non-finite number stored."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client

from accounts.models import UserSetting
from plants.choices import DeviceType
from plants.models import Device, PanelSpec, Plant
from solarhub.testing.personas import api_client_for

pytestmark = pytest.mark.django_db

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/no-such-route", "/api/plants/1/nothing", "/nowhere"])
def test_unknown_urls_answer_json_404_for_every_method_even_with_csrf_enforced(customer, method, path):
    """A browser session (cookie, CSRF enforced) posting to an unknown URL got Django's HTML
    "CSRF verification failed" 403 before."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    response = getattr(client, method)(path, data="{}", content_type="application/json")
    assert response.status_code == 404, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found.", "status_code": 404, "error_code": "NOT_FOUND"}


def test_a_csrf_failure_on_the_api_is_json(customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    response = client.post("/api/auth/logout", data="{}", content_type="application/json")
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    assert response.status_code in (401, 403) and "error_code" in response.json()


def _raw(client, method: str, path: str, body: str):
    return getattr(client, method)(path, data=body, content_type="application/json")


@pytest.mark.parametrize("literal", NON_FINITE)
def test_non_finite_numbers_are_400_naming_the_field_and_nothing_is_stored(installer, own_plant, literal):
    client = api_client_for(installer)
    alarm = '{"plantId": PLANT, "title": "t", "severity": "low", "metadata": {"v": [1, %s]}}'
    cases = [
        ("post", "/api/plants", '{"name": "N", "coordinates": {"lat": 1, "lng": 2}, "totalCapacity": %s}',
         "totalCapacity"),
        ("patch", f"/api/plants/{own_plant.id}", '{"surfaceTilt": %s}', "surfaceTilt"),
        ("post", "/api/alarms", alarm.replace("PLANT", str(own_plant.id)), "metadata.v[1]"),
        ("post", f"/api/plants/{own_plant.id}/panel-specs", '{"panelType": "X", "pMaxW": %s}', "pMaxW"),
        ("put", "/api/settings/me", '{"preferences": {"zoom": %s}}', "preferences.zoom"),
    ]  # fmt: skip
    before = (list(Plant.objects.values()), PanelSpec.objects.count())
    for method, path, template, field in cases:
        response = _raw(client, method, path, template % literal)
        assert response.status_code == 400, (path, response.content)
        body = response.json()
        assert body["error_code"] == "VALIDATION_ERROR" and field in body["errors"], (path, body)
    assert (list(Plant.objects.values()), PanelSpec.objects.count()) == before
    assert not UserSetting.objects.filter(preferences__has_key="zoom").exists()


def test_no_write_route_answers_500_to_a_non_finite_body(plant_admin, own_plant):
    """Every operation of the schema with a JSON body, as a plant_admin (who may do anything),
    path ids of real rows: a NaN in the body is never a server error, nor a success."""
    device = Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="I", serial_number="I-1")
    client = api_client_for(plant_admin)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    checked = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if method not in {"post", "put", "patch"} or "application/json" not in content:
                continue
            url = path
            for name in ("id", "plant_id", "plantId", "device_id", "deviceId", "pk"):
                url = url.replace("{" + name + "}", str(device.id if "device" in path else own_plant.id))
            url = url.replace("{rackNumber}", "1").replace("{userId}", str(plant_admin.id))
            if "{" in url:
                continue
            response = _raw(client, method, url, '{"value": NaN, "name": NaN}')
            assert response.status_code < 500, (method, url, response.content[:300])
            assert response.status_code >= 400 or "/telemetry/ingest" in url, (method, url, response.status_code)
            checked += 1
    assert checked > 20


def test_a_duplicate_serial_names_the_field(installer, own_plant):
    client = api_client_for(installer)
    body = {"name": "Inverter", "type": "inverter", "serialNumber": "SER-1"}
    assert client.post(f"/api/plants/{own_plant.id}/devices", body, format="json").status_code == 201
    again = client.post(f"/api/plants/{own_plant.id}/devices", body, format="json")
    assert again.status_code == 400, again.content
    errors = again.json()["errors"]
    assert "serialNumber" in errors and "_All__" not in errors and "__all__" not in errors, errors


def test_permission_is_decided_before_validation(customer):
    """A customer may not create plants: 403 whatever the body, not a 400 listing its faults."""
    client = api_client_for(customer)
    for body in ({}, {"name": ""}, {"totalCapacity": "lots"}):
        response = client.post("/api/plants", body, format="json")
        assert response.status_code == 403, response.content
        assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert not Plant.objects.exists()


@pytest.mark.parametrize("offset", ["+16:00", "-18:30", "+23:59"])
def test_utc_offsets_beyond_postgresql_s_range_are_the_same_instant_not_a_500(customer, own_plant, offset):
    """ISO 8601 allows offsets up to ±23:59, PostgreSQL's timestamptz input ±15:59: such a
    ``since`` was a database error (500). It is the same instant, sent in UTC."""
    client = api_client_for(customer)
    since = f"2026-01-01T00:00:00{offset}"
    device = Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="I", serial_number="TZ-1")
    for path, params in (
        ("/api/alarms", {"since": since, "until": since}),
        ("/api/alarms/analytics", {"plantId": own_plant.id, "since": since}),
        (f"/api/devices/{device.id}/events", {"since": since}),
    ):
        response = client.get(path, params)
        assert response.status_code == 200, (path, response.content[:300])


def test_integers_beyond_64_bits_nul_and_lone_surrogates_are_400_and_nothing_breaks_reads(operator_client):
    """An alarm ``metadata`` integer beyond 64 bits was stored, then every GET /api/alarms of the
    plant answered 500. Such values (and NUL, lone surrogates, in values and keys) are refused
    on the way in, naming where."""
    client, plant = operator_client
    template = '{"plantId": %d, "title": "t", "severity": "low", "metadata": %s}'
    for metadata, where in (
        (f'{{"n": {2**64}}}', "metadata.n"),
        (f'{{"n": [1, -{2**70}]}}', "metadata.n[1]"),
        ('{"note": "a\\u0000b"}', "metadata.note"),
        ('{"note": "\\ud800"}', "metadata.note"),
        ('{"a\\u0000": 1}', "metadata.a\x00"),
    ):
        response = _raw(client, "post", "/api/alarms", template % (plant.id, metadata))
        assert response.status_code == 400, (metadata, response.content)
        assert where in response.json()["errors"], (metadata, response.json())
    assert client.get("/api/alarms").status_code == 200
    assert client.get("/api/alarms").json() == []


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/plants", "/api/telemetry/ingest"])
def test_a_body_nested_too_deep_is_a_400_not_a_500(installer, path):
    for depth in (65, 100_000):
        body = "[" * depth + "]" * depth
        for client in (api_client_for(None), api_client_for(installer)):
            response = _raw(client, "post", path, body)
            assert 400 <= response.status_code < 500, (path, depth, response.status_code)
            if response.status_code == 400:
                assert response.json()["error_code"] in {"PARSE_ERROR", "VALIDATION_ERROR"}, response.json()


@pytest.fixture
def operator_client(installer, own_plant):
    return api_client_for(installer), own_plant
