"""The registry learns storage: meter roles and CT ratio, the BESS datasheet's storage fields,
the plant's camera URL — through the plant config import and the device API."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.conf import settings

from plants.importers import plant_config_import
from plants.models import Device, Plant
from solarhub.testing.personas import api_client_for
from telemetry.models import Metric

pytestmark = pytest.mark.django_db
EXAMPLE = Path(settings.BASE_DIR) / "docs" / "examples" / "plant_config.json"


def test_the_plant_config_import_takes_storage_devices_and_fields():
    data = copy.deepcopy(json.loads(EXAMPLE.read_text()))
    data["plant"]["cctv_url"] = "https://cctv.example.com/site"
    data["meters"] = [{"name": "Aux", "serial_number": "AUX-1", "datasheet": {"role": "aux", "ct_ratio": 100}}]
    data["pcs"] = [{"name": "PCS 1", "serial_number": "PCS-1", "datasheet": {"apparent_power_rating_kva": 1375}}]
    data["bess"] = [
        {
            "name": "BESS 1",
            "serial_number": "BESS-1",
            "datasheet": {"usable_capacity_kwh": 2500, "max_charge_kw": 1250, "max_discharge_kw": 1250, "c_rate": 0.5},
        }
    ]
    data["bess_racks"] = [{"name": "Rack 1", "serial_number": "R-1", "parent": "BESS-1"}]
    plant_config_import(data=data)
    plant = Plant.objects.get(plant_code=data["plant"]["plant_code"])
    assert plant.cctv_url == "https://cctv.example.com/site"
    aux = Device.objects.get(plant=plant, serial_number="AUX-1")
    assert (aux.meter_datasheet.role, aux.meter_datasheet.ct_ratio) == ("aux", 100.0)
    bess = Device.objects.get(plant=plant, serial_number="BESS-1")
    assert bess.bess_datasheet.usable_capacity_kwh == 2500.0 and bess.bess_datasheet.c_rate == 0.5
    assert Device.objects.get(plant=plant, serial_number="R-1").parent == bess


def test_a_meter_role_goes_through_the_device_api(installer, own_plant):
    body = {"name": "Grid", "type": "meter", "serialNumber": "G-1", "datasheet": {"role": "grid", "ctRatio": 400}}
    response = api_client_for(installer).post(f"/api/plants/{own_plant.pk}/devices", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["datasheet"]["role"] == "grid"
    bad = api_client_for(installer).post(
        f"/api/plants/{own_plant.pk}/devices",
        {**body, "serialNumber": "G-2", "datasheet": {"role": "moon"}},
        format="json",
    )
    assert bad.status_code == 400


def test_the_catalog_has_the_storage_metrics():
    keys = set(Metric.objects.values_list("key", flat=True))
    assert {"cell_voltage_max", "cell_voltage_min_id", "charge_energy", "battery_mode", "apparent_power"} <= keys
    assert Metric.objects.get(key="cell_voltage_max").sunspec_point.startswith("802/")


def test_the_camera_url_goes_through_the_plant_api(installer, own_plant):
    client = api_client_for(installer)
    changed = client.patch(f"/api/plants/{own_plant.pk}", {"cctvUrl": "https://cctv.example.com/a"}, format="json")
    assert changed.status_code == 200 and changed.json()["cctvUrl"] == "https://cctv.example.com/a"
    assert client.patch(f"/api/plants/{own_plant.pk}", {"cctvUrl": "not a url"}, format="json").status_code == 400
    assert client.patch(f"/api/plants/{own_plant.pk}", {"cctvUrl": ""}, format="json").json()["cctvUrl"] == ""
