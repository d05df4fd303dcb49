"""Devices API: seed 001 shapes, typed datasheets, groups, parents, moves, query counts."""

from __future__ import annotations

import pytest

from plants.choices import DeviceType
from plants.models import Device, InverterDatasheet, MeterDatasheet, StringBoxDatasheet
from solarhub.testing.personas import api_client_for, make_plant

pytestmark = pytest.mark.django_db

INVERTER = {
    "name": "Inverter A1",
    "type": "inverter",
    "model": "SolarEdge SE7600A",
    "serialNumber": "SE7600A-12345",
    "capacity": 7.6,
    "firmware": "1.2.3",
    "datasheet": {"nominalOutputPowerKw": 7.6, "europeanEfficiencyPct": 97.5, "mppRangeMinV": 200, "phases": 1},
}


def create(client, plant, body=INVERTER):
    return client.post("/api/devices", {**body, "plantId": plant.id}, format="json")


def test_create_and_read_with_seed_001_fields_and_datasheet(installer, customer, own_plant):
    response = create(api_client_for(installer), own_plant)
    assert response.status_code == 201, response.content
    device_id = response.json()["id"]
    detail = api_client_for(customer).get(f"/api/devices/{device_id}").json()
    for key in ("id", "plantId", "name", "type", "model", "serialNumber", "capacity", "status", "currentOutput",
                "efficiency", "firmware", "lastCommunication", "lastUpdate"):  # fmt: skip
        assert key in detail, key
    assert detail["plantId"] == own_plant.id and detail["capacity"] == 7.6 and detail["status"] == "offline"
    assert detail["datasheet"]["nominalOutputPowerKw"] == 7.6
    assert detail["datasheet"]["europeanEfficiencyPct"] == 97.5
    listed = api_client_for(customer).get("/api/devices").json()
    assert set(listed[0]) == {"id", "plantId", "name", "type", "status", "currentOutput", "efficiency", "lastUpdate"}


def test_datasheet_is_validated_and_nothing_is_stored_on_error(installer, own_plant):
    bad = {**INVERTER, "datasheet": {"europeanEfficiencyPct": 140}}
    response = create(api_client_for(installer), own_plant, bad)
    assert response.status_code == 400 and "datasheet" in response.json()["errors"]
    assert not Device.objects.exists() and not InverterDatasheet.objects.exists()


def test_datasheet_update_is_partial(installer, own_plant):
    client = api_client_for(installer)
    device_id = create(client, own_plant).json()["id"]
    response = client.patch(f"/api/devices/{device_id}", {"datasheet": {"phases": 3}}, format="json")
    assert response.status_code == 200, response.content
    sheet = InverterDatasheet.objects.get(device_id=device_id)
    assert (sheet.phases, sheet.nominal_output_power_kw) == (3, 7.6)


def test_serial_is_unique_per_plant_only(installer, plant_admin, own_plant, other_plant):
    assert create(api_client_for(installer), own_plant).status_code == 201
    again = create(api_client_for(installer), own_plant)
    assert again.status_code == 400 and again.json()["error_code"] == "VALIDATION_ERROR"
    assert create(api_client_for(plant_admin), other_plant).status_code == 201


def test_string_box_parent_must_be_an_inverter_of_the_same_plant(installer, plant_admin, own_plant, other_plant):
    client = api_client_for(installer)
    inverter = create(client, own_plant).json()["id"]
    box = {"name": "SMB 1", "type": "string_monitoring_box", "serialNumber": "SMB-1", "parentId": inverter,
           "datasheet": {"noStrings": 12, "pKwp": 48}}  # fmt: skip
    response = client.post("/api/devices", {**box, "plantId": own_plant.id}, format="json")
    assert response.status_code == 201, response.content
    assert StringBoxDatasheet.objects.get(device_id=response.json()["id"]).no_strings == 12
    foreign = Device.objects.create(plant=other_plant, type=DeviceType.INVERTER, name="F", serial_number="F1")
    response = client.post(
        "/api/devices", {**box, "serialNumber": "SMB-2", "parentId": foreign.id, "plantId": own_plant.id}, format="json"
    )
    assert response.status_code == 400 and "parentId" in response.json()["errors"]
    wms = Device.objects.create(plant=own_plant, type=DeviceType.WEATHER_STATION, name="W", serial_number="W1")
    response = client.post(
        "/api/devices", {**box, "serialNumber": "SMB-3", "parentId": wms.id, "plantId": own_plant.id}, format="json"
    )
    assert response.status_code == 400


def test_moving_a_device_into_a_foreign_plant_is_rejected(installer, own_plant, other_plant):
    client = api_client_for(installer)
    device_id = create(client, own_plant).json()["id"]
    response = client.patch(f"/api/devices/{device_id}", {"plantId": other_plant.id}, format="json")
    assert response.status_code == 400 and "plantId" in response.json()["errors"]
    assert Device.objects.get(id=device_id).plant_id == own_plant.id


def test_installer_may_move_a_device_between_own_plants(installer, own_plant, customer):
    second = make_plant(name="Second", owner=customer, installer=installer)
    client = api_client_for(installer)
    device_id = create(client, own_plant).json()["id"]
    assert client.patch(f"/api/devices/{device_id}", {"plantId": second.id}, format="json").status_code == 200
    assert Device.objects.get(id=device_id).plant_id == second.id


def test_groups_and_nested_lists_return_exactly_the_visible_devices(customer, plant_admin, own_plant, other_plant):
    own_inv = Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="I", serial_number="I1")
    own_wms = Device.objects.create(plant=own_plant, type=DeviceType.WEATHER_STATION, name="W", serial_number="W1")
    other_inv = Device.objects.create(plant=other_plant, type=DeviceType.INVERTER, name="I", serial_number="I2")
    meter = Device.objects.create(plant=own_plant, type=DeviceType.METER, name="M", serial_number="M1")
    MeterDatasheet.objects.create(device=meter, is_abt=True)
    sub_meter = Device.objects.create(plant=own_plant, type=DeviceType.METER, name="Sub", serial_number="M2")
    client = api_client_for(customer)

    def ids(path):
        return {d["id"] for d in client.get(path).json()}

    assert ids("/api/devices") == {own_inv.id, own_wms.id, meter.id, sub_meter.id}
    assert ids("/api/devices/inverters") == {own_inv.id}
    assert ids("/api/devices/wms") == {own_wms.id}
    assert ids("/api/devices/abt-meters") == {meter.id}  # seed 000: ABT meters, not every meter
    assert ids(f"/api/plants/{own_plant.id}/devices") == {own_inv.id, own_wms.id, meter.id, sub_meter.id}
    assert ids("/api/devices?type=inverter") == {own_inv.id}
    assert client.get(f"/api/devices/{other_inv.id}").status_code == 404
    assert {d["id"] for d in api_client_for(plant_admin).get("/api/devices/inverters").json()} == {
        own_inv.id,
        other_inv.id,
    }
    assert client.get("/api/devices/unknown-group").status_code == 404


def test_device_list_query_count_does_not_grow(customer, own_plant, django_assert_max_num_queries):
    client = api_client_for(customer)
    for n in range(3):
        Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="I", serial_number=f"A{n}")
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/devices").json()) == 3
    for n in range(3, 40):
        Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="I", serial_number=f"A{n}")
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/devices").json()) == 40
    with django_assert_max_num_queries(4):
        assert len(client.get(f"/api/plants/{own_plant.id}/devices").json()) == 40


def test_device_detail_fetches_datasheets_in_one_query(customer, own_plant, django_assert_max_num_queries):
    device = Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="I", serial_number="D1")
    InverterDatasheet.objects.create(device=device, nominal_output_power_kw=50)
    with django_assert_max_num_queries(3):
        body = api_client_for(customer).get(f"/api/devices/{device.id}").json()
    assert body["datasheet"]["nominalOutputPowerKw"] == 50
